"""The mypy baseline only shrinks: a listed module that became clean fails CI until it is removed."""

import importlib.util
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("mypy_baseline", ROOT / "scripts" / "mypy_baseline.py")
mypy_baseline = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mypy_baseline)


def test_a_baseline_module_that_became_clean_must_leave_the_list():
    problems = mypy_baseline.baseline_verdict(
        baseline=["catalog.admin", "genesys.env"], erring={"genesys.env"}
    )
    assert problems == ["catalog.admin: clean now; remove it from the mypy baseline in pyproject.toml"]


def test_an_error_outside_the_baseline_fails():
    problems = mypy_baseline.baseline_verdict(
        baseline=["genesys.env"], erring={"genesys.env", "catalog.gtin"}
    )
    assert len(problems) == 1 and problems[0].startswith("catalog.gtin: has type errors and is not in")


def test_a_baseline_in_step_with_the_errors_passes():
    assert mypy_baseline.baseline_verdict(baseline=["genesys.env"], erring={"genesys.env"}) == []


def test_errors_are_attributed_to_dotted_modules():
    output = (
        "genesys/env.py:12: error: Incompatible types  [assignment]\n"
        "genesys/env.py:13: note: See https://mypy.readthedocs.io\n"
        "catalog/models/__init__.py:3: error: Name not defined  [name-defined]\n"
        "Found 2 errors in 2 files (checked 171 source files)\n"
    )
    assert mypy_baseline.modules_with_errors(output) == {"genesys.env", "catalog.models"}


def test_the_check_runs_mypy_without_the_baseline_override_but_with_every_other_setting():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    # The project's baseline is empty now: a listed one, beside another override, shows the split.
    mypy = {
        **config["mypy"],
        "overrides": [
            {"module": ["genesys.env", "catalog.jobs"], "ignore_errors": True},
            {"module": "tests.*", "disallow_untyped_defs": False},
        ],
    }
    settings, baseline = mypy_baseline.baseline_split(mypy)
    assert baseline == ["genesys.env", "catalog.jobs"]
    assert settings["overrides"] == [{"module": "tests.*", "disallow_untyped_defs": False}]
    assert mypy_baseline.baseline_split(config["mypy"])[1] == []  # every module is checked
    ini = mypy_baseline.ini_render(settings, config["django-stubs"])
    assert "plugins = mypy_django_plugin.main" in ini
    assert "[mypy.plugins.django-stubs]\ndjango_settings_module = genesys.settings" in ini
    assert "ignore_errors" not in ini


def test_the_baseline_lists_real_modules():
    """A typo in the list would hide nothing and never be reported clean: every entry is a file."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    _, baseline = mypy_baseline.baseline_split(config["mypy"])
    for module in baseline:
        path = ROOT / module.replace(".", "/")
        assert path.with_suffix(".py").is_file() or (path / "__init__.py").is_file(), module
