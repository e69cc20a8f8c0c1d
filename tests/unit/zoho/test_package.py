"""The core package's public names: loaded on first use, each from the module that defines it, and
the same list for type checkers as at run time."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import airflow_provider_zohorel.zoho as core

INIT = Path(core.__file__)


def _typed_imports() -> dict[str, str]:
    """name -> module of the ``if TYPE_CHECKING:`` imports in zoho/__init__.py."""
    tree = ast.parse(INIT.read_text())
    block = next(n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING")
    return {
        alias.name: node.module.rsplit(".", 1)[1]
        for node in block.body
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
    }


def test_every_public_name_resolves_to_the_module_that_defines_it():
    for name in core.__all__:
        value = getattr(core, name)
        assert value.__module__ == f"{core.__name__}.{core._HOMES[name]}", name


def test_type_checkers_see_the_same_names_and_homes_as_the_runtime():
    assert _typed_imports() == core._HOMES


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="NoSuchThing"):
        core.NoSuchThing  # noqa: B018


def test_a_light_core_module_loads_without_the_http_client():
    """``get_provider_info`` reads ``zoho.regions``; that must not pull in requests or the client."""
    code = (
        "import sys, airflow_provider_zohorel.zoho.regions; "
        "heavy = sorted(m for m in sys.modules "
        "               if m.startswith(('requests', 'airflow_provider_zohorel.zoho.client'))); "
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
