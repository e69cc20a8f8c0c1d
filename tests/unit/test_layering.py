"""The dependency rule is the architecture (DESIGN.md): zoho/ never imports Airflow, the emulator
imports nothing of the provider, and hooks/operators reach the core only through its modules."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "airflow_provider_zohorel"


def imported_modules(directory: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in directory.rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
            elif isinstance(node, ast.ImportFrom) and node.level > 0:
                names.add("." * node.level + (node.module or ""))
        found[str(path.relative_to(PACKAGE))] = names
    return found


def test_core_never_imports_airflow():
    offenders = {
        path: sorted(n for n in names if n == "airflow" or n.startswith("airflow."))
        for path, names in imported_modules(PACKAGE / "zoho").items()
    }
    assert {p: n for p, n in offenders.items() if n} == {}


def test_emulator_imports_nothing_of_the_provider_or_airflow():
    offenders = {
        path: sorted(
            n
            for n in names
            if n.startswith(("airflow_provider_zohorel.zoho", "airflow_provider_zohorel.hooks"))
            or n.startswith(("airflow_provider_zohorel.operators", "airflow."))
            or n in ("airflow", "airflow_provider_zohorel")
            or n.startswith("..")
        )
        for path, names in imported_modules(PACKAGE / "emulator").items()
    }
    assert {p: n for p, n in offenders.items() if n} == {}


def test_importing_the_core_loads_no_airflow_module():
    code = (
        "import sys, airflow_provider_zohorel.zoho as z; "
        "bad = [m for m in sys.modules if m == 'airflow' or m.startswith('airflow.')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_test_folder_is_a_package():
    """Test folders are packages (``tests.unit.zoho.test_planning``), so modules are imported by
    their full name: two ``test_client.py`` in different folders cannot clash, and helpers are
    imported as ``tests.<suite>.<module>``, never by a bare name that depends on ``sys.path``."""
    tests = Path(__file__).resolve().parents[1]
    folders = {p.parent for p in tests.rglob("test_*.py")} | {p.parent for p in tests.rglob("conftest.py")}
    missing = sorted(str(f.relative_to(tests.parent)) for f in folders if not (f / "__init__.py").exists())
    assert missing == []
