"""mypy with a baseline that can only shrink.

The modules listed in pyproject.toml's ``[[tool.mypy.overrides]]`` with ``ignore_errors = true``
are the baseline: modules that had type errors when mypy was switched on. A plain ``mypy`` run
skips their errors. This check runs mypy once more with the same settings but without that
override and fails when

* a module outside the baseline has an error (the plain run would fail on it too), or
* a baseline module has no error any more: it must leave the list, so the list only shrinks.

Run it from the repository root: ``.venv/bin/python scripts/mypy_baseline.py`` (.ci/run does).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ERROR_LINE = re.compile(r"^(?P<path>[\w./-]+\.py):\d+: error: ")


def baseline_split(mypy_config: dict) -> tuple[dict, list[str]]:
    """The mypy settings without the baseline override, and the baseline's modules."""
    settings = {k: v for k, v in mypy_config.items() if k != "overrides"}
    overrides, baseline = [], []
    for override in mypy_config.get("overrides", []):
        if override.get("ignore_errors") is True:
            modules = override["module"]
            baseline.extend([modules] if isinstance(modules, str) else modules)
        else:
            overrides.append(override)
    return {**settings, "overrides": overrides}, baseline


def _ini_value(value: object) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def ini_render(mypy_config: dict, plugin_config: dict) -> str:
    """mypy's INI form of the settings (mypy reads its overrides per ``[mypy-module]`` section)."""
    lines = ["[mypy]"]
    lines += [f"{k} = {_ini_value(v)}" for k, v in mypy_config.items() if k not in ("overrides", "packages")]
    for override in mypy_config.get("overrides", []):
        modules = override["module"]
        lines.append(f"[mypy-{_ini_value(modules if isinstance(modules, list) else [modules])}]")
        lines += [f"{k} = {_ini_value(v)}" for k, v in override.items() if k != "module"]
    lines.append("[mypy.plugins.django-stubs]")
    lines += [f"{k} = {_ini_value(v)}" for k, v in plugin_config.items()]
    return "\n".join(lines) + "\n"


def modules_with_errors(output: str) -> set[str]:
    """Dotted module names of the files mypy reported errors in."""
    found = set()
    for line in output.splitlines():
        match = ERROR_LINE.match(line)
        if match:
            dotted = match["path"].removesuffix(".py").replace("/", ".")
            found.add(dotted.removesuffix(".__init__"))
    return found


def baseline_verdict(*, baseline: list[str], erring: set[str]) -> list[str]:
    """What is wrong with the baseline given the modules that have errors (empty: all good)."""
    problems = [
        f"{module}: clean now; remove it from the mypy baseline in pyproject.toml"
        for module in sorted(set(baseline) - erring)
    ]
    problems += [
        f"{module}: has type errors and is not in the baseline; fix them (the baseline only shrinks)"
        for module in sorted(erring - set(baseline))
    ]
    return problems


def main() -> int:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    mypy_config, baseline = baseline_split(pyproject["tool"]["mypy"])
    packages = mypy_config.get("packages", [])
    with tempfile.NamedTemporaryFile("w", suffix=".ini", delete=False) as config:
        config.write(ini_render(mypy_config, pyproject["tool"].get("django-stubs", {})))
    try:
        env = {**os.environ, "DEBUG": os.environ.get("DEBUG", "1")}  # settings import without secrets
        args = [sys.executable, "-m", "mypy", "--config-file", config.name, "--no-incremental"]
        args += [arg for package in packages for arg in ("-p", package)]
        done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    finally:
        os.unlink(config.name)
    if done.returncode not in (0, 1) or "error: INTERNAL ERROR" in done.stderr:
        sys.stderr.write(done.stdout + done.stderr)
        return 2
    problems = baseline_verdict(baseline=baseline, erring=modules_with_errors(done.stdout))
    for problem in problems:
        print(problem)
    print(f"mypy baseline: {len(baseline)} modules still ignored; {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
