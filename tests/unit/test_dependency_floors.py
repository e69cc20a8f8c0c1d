"""Known advisories that concern this provider must be excluded by the floors in pyproject.toml and
absent from every pinned set in constraints/ (SECURITY.md). The live audit (scripts/audit.sh, with
pip-audit) covers every advisory; this test keeps the ones we raised floors for from coming back,
and runs without a network."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]

#: (advisory, package, affected versions), each confirmed in the advisory's own record.
ADVISORIES = [
    # Viewer (read-only) users could read sensitive connection extras, here the refresh token.
    ("CVE-2025-54831", "apache-airflow", SpecifierSet("==3.0.3")),
    # .netrc credentials sent to a host other than the one they are for.
    ("CVE-2024-47081 / GHSA-9hjg-9r4m-mvj7", "requests", SpecifierSet("<2.32.4")),
    # rediss:// did not verify the server's host name by default (ssl_check_hostname=False).
    ("redis-py 6.0.0 breaking change (redis/redis-py#3626)", "redis", SpecifierSet("<6.0.0")),
    # O(n^2) Range header merging in FileResponse: CPU exhaustion of the Airflow API server.
    ("CVE-2025-62727 / GHSA-7f5h-v6xp-fcq8", "starlette", SpecifierSet(">=0.39.0,<0.49.1")),
]


def declared() -> dict[str, list[Requirement]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    found: dict[str, list[Requirement]] = {}
    for text in [
        *project["dependencies"],
        *(r for rs in project["optional-dependencies"].values() for r in rs),
    ]:
        req = Requirement(text)
        found.setdefault(req.name.lower(), []).append(req)
    return found


def floor(req: Requirement) -> Version | None:
    lows = [Version(s.version) for s in req.specifier if s.operator in (">=", "==", "~=")]
    return max(lows) if lows else None


@pytest.mark.parametrize(("advisory", "package", "affected"), ADVISORIES, ids=[a[0] for a in ADVISORIES])
def test_the_floors_exclude_the_advisory(advisory, package, affected):
    for req in declared().get(package, []):
        low = floor(req)
        assert low is not None, f"{req} has no floor, so it admits {package} {affected} ({advisory})"
        # every release from the floor on is fixed: the floor itself is, and so is anything above
        # the highest affected bound
        assert low not in affected, f"{req} admits {package} {low} ({advisory})"
        uppers = [Version(s.version) for s in affected if s.operator in ("<", "<=", "==")]
        assert all(low >= u for u in uppers), f"{req} admits affected {package} releases ({advisory})"


def pins(path: Path) -> dict[str, Version]:
    out = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s;#]+)", line)
        if match:
            out[match[1].lower().replace("_", "-")] = Version(match[2])
    return out


PINNED_SETS = sorted(ROOT.glob("constraints/**/py3.*.txt"))


@pytest.mark.parametrize("path", PINNED_SETS, ids=[str(p.relative_to(ROOT)) for p in PINNED_SETS])
def test_no_pinned_set_holds_an_affected_release(path):
    pinned = pins(path)
    hits = [
        f"{package}=={pinned[package]} ({advisory})"
        for advisory, package, affected in ADVISORIES
        if package in pinned and pinned[package] in affected
    ]
    assert hits == []
