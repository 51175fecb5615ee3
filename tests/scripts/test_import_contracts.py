"""The apps' imports run downhill: the import-linter contracts in pyproject.toml hold (.ci/run)."""

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _lint_imports(root: Path = ROOT) -> subprocess.CompletedProcess:
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or "lint-imports"
    return subprocess.run(
        [command, "--no-cache"], cwd=root, capture_output=True, text=True, check=False,
        env={"PYTHONPATH": str(root), "PATH": str(Path(sys.executable).parent)},
    )  # fmt: skip


def test_the_contracts_are_kept():
    done = _lint_imports()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 2 kept, 0 broken." in done.stdout


def test_the_only_exception_is_the_catalog_selectors_reading_procurement_models():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    ignored = [i for contract in config["contracts"] for i in contract.get("ignore_imports", [])]
    assert ignored == ["catalog.selectors -> procurement.models"]


def test_an_upward_import_breaks_the_contract(tmp_path):
    """The contract is not vacuous: in a copy of the tree, a genesys module importing an app and a
    second catalog module reading procurement are both reported."""
    ignore = shutil.ignore_patterns("__pycache__", "migrations")
    for package in ("genesys", "catalog", "procurement", "prestashop", "api"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "genesys" / "contract_probe.py").write_text("import catalog.models  # noqa\n")
    (tmp_path / "catalog" / "contract_probe.py").write_text("import procurement.models  # noqa\n")
    done = _lint_imports(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "genesys.contract_probe -> catalog.models" in done.stdout
    assert "catalog.contract_probe -> procurement.models" in done.stdout
