"""scripts/audit_report.py decides CI's audit verdict from pip-audit's JSON: a known vulnerability
fails it, a report where nothing could be looked up says so."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "audit_report.py"
spec = importlib.util.spec_from_file_location("audit_report", SCRIPT)
assert spec is not None
assert spec.loader is not None
audit_report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit_report)

VULNERABLE = {
    "name": "requests",
    "version": "2.31.0",
    "vulns": [{"id": "GHSA-9hjg-9r4m-mvj7", "fix_versions": ["2.32.4"]}],
}
CLEAN = {"name": "pendulum", "version": "3.1.0", "vulns": []}
SKIPPED = {"name": "urllib3", "skip_reason": "Dependency not found on PyPI and could not be audited"}


def write(tmp_path: Path, *deps: dict) -> Path:
    (tmp_path / "constraints_py3.11.txt.json").write_text(
        json.dumps({"dependencies": list(deps), "fixes": []})
    )
    return tmp_path


def test_a_known_vulnerability_fails_the_audit(tmp_path, capsys):
    assert audit_report.report(write(tmp_path, CLEAN, VULNERABLE), True, False) == 1
    assert "requests==2.31.0 GHSA-9hjg-9r4m-mvj7 (fixed in 2.32.4)" in capsys.readouterr().out


def test_a_clean_audit_passes(tmp_path):
    assert audit_report.report(write(tmp_path, CLEAN, SKIPPED), False, True) == 0


@pytest.mark.parametrize(("strict", "code"), [(False, 0), (True, 1)])
def test_nothing_audited_is_said_and_fails_only_when_strict(tmp_path, capsys, strict, code):
    assert audit_report.report(write(tmp_path, SKIPPED, SKIPPED), False, strict) == code
    assert "NOT AUDITED" in capsys.readouterr().out
