"""The emulator declares its own dependencies (the ``emulator`` extra) instead of relying on
what Airflow happens to install."""

from __future__ import annotations

import ast
import sys
from importlib import metadata
from pathlib import Path

import airflow_provider_zohorel.emulator as emulator_package

#: Import name -> distribution name, where they differ.
_DISTRIBUTION = {"yaml": "pyyaml"}


def _third_party_imports() -> set[str]:
    root = Path(emulator_package.__file__).parent
    names: set[str] = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    return {name for name in names if name not in stdlib and name != "airflow_provider_zohorel"}


def _requirements(extra: str | None) -> set[str]:
    found = set()
    for requirement in metadata.requires("airflow-provider-zohorel") or []:
        name = requirement.split(";")[0].split("[")[0]
        for separator in "<>=!~ ":
            name = name.split(separator)[0]
        marker = requirement.partition(";")[2]
        in_extra = f'extra == "{extra}"' in marker if extra else "extra ==" not in marker
        if in_extra:
            found.add(name.strip().lower())
    return found


def test_every_third_party_import_of_the_emulator_is_declared():
    declared = _requirements("emulator") | _requirements(None)
    imported = {_DISTRIBUTION.get(name, name).lower() for name in _third_party_imports()}
    imported.discard("pytest")  # only pytest_plugin imports it, and only pytest loads that
    assert imported == {"msgspec", "uvicorn", "requests"}
    assert imported <= declared, f"undeclared: {sorted(imported - declared)}"


def test_the_dev_extra_includes_the_emulator_extra():
    assert _requirements("emulator") <= _requirements("dev")
