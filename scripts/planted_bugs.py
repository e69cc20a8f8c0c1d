"""Plant each bug of issue 16's audit in the package, run the fast test that should kill it, revert.

Usage: ``.venv/bin/python scripts/planted_bugs.py [name ...]`` from the repository root (a clean
tree: every file is restored with its original bytes afterwards). Prints one line per bug: killed
(the named tests went red) or SURVIVED. Exit status 1 if any bug survived.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = "airflow_provider_zohorel"


@dataclass(frozen=True)
class Bug:
    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


BUGS = [
    Bug(
        "fail becomes skipped",
        f"{PKG}/operators/related_records.py",
        "            raise AirflowException(verdict.reason)",
        "            raise AirflowSkipException(verdict.reason)",
        ("tests/unit/operators/test_related_records.py",),
    ),
    Bug(
        "no flock across processes",
        f"{PKG}/zoho/token_cache.py",
        "                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)",
        "                        pass",
        ("tests/unit/zoho/test_token_provider.py",),
    ),
    Bug(
        "no cache re-check under the lock",
        f"{PKG}/zoho/token_provider.py",
        "            cached = self._load()  # someone may have minted while we waited",
        "            cached = None",
        ("tests/unit/zoho/test_token_provider.py",),
    ),
    Bug(
        "BatchStateStore.done() returns None",
        f"{PKG}/operators/resume.py",
        "        marks = self._finished.get(batch.key)\n",
        "        return None\n        marks = self._finished.get(batch.key)\n",
        ("tests/unit/operators/test_resume.py",),
    ),
    Bug(
        "only fully successful batches recorded",
        f"{PKG}/operators/resume.py",
        "            if not self.enabled:\n                self._dropped += 1",
        "            if not all(r.succeeded for r in results):\n                return\n"
        "            if not self.enabled:\n                self._dropped += 1",
        ("tests/unit/operators/test_resume.py",),
    ),
    Bug(
        "records and sql both allowed",
        f"{PKG}/operators/related_records.py",
        "        if records_given == (self.sql is not None):",
        "        if not records_given and self.sql is None:",
        ("tests/unit/operators",),
    ),
    Bug(
        "operator drops parent_id_key",
        f"{PKG}/operators/related_records.py",
        "                parent_id_key=self.parent_id_key,",
        "                parent_id_key='record_id',",
        ("tests/integration/test_operator_against_emulator.py",),
    ),
    Bug(
        "limiter slot() never blocks",
        f"{PKG}/zoho/limiter.py",
        "            while self.in_flight >= self.limit:\n                self._cond.wait()",
        "            pass",
        ("tests/unit/zoho/test_limiter.py",),
    ),
    Bug(
        "no progress lines",
        f"{PKG}/operators/related_records.py",
        '            self.log.info("Zoho progress: %s", progress.line())',
        "            pass",
        ("tests/integration/test_operator_against_emulator.py",),
    ),
    Bug(
        "mint follows redirects",
        f"{PKG}/zoho/oauth.py",
        "                allow_redirects=False,  # a redirect",
        "                allow_redirects=True,  # a redirect",
        ("tests/security/test_sec_token_endpoint.py",),
    ),
    Bug(
        "provider does not mask the client secret and refresh token",
        f"{PKG}/hooks/zoho_crm.py",
        '        mask_secret(fields["_password"])\n        for field in EXTRA_FIELDS:\n'
        "            if field.secret:\n                mask_secret(fields[field.name])\n",
        "",
        ("tests/unit/hooks/test_zoho_crm.py",),
    ),
]


def run(bug: Bug) -> bool:
    """True if the bug was killed (the tests failed)."""
    path = ROOT / bug.path
    original = path.read_bytes()
    text = original.decode()
    assert text.count(bug.old) == 1, f"{bug.name}: the code to plant in is not found once in {bug.path}"
    try:
        path.write_text(text.replace(bug.old, bug.new))
        tests = list(bug.tests)
        assert all((ROOT / t.split("::")[0]).exists() for t in tests), tests
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:randomly", *tests],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        path.write_bytes(original)
    failed = [line for line in proc.stdout.splitlines() if line.startswith("FAILED")]
    print(f"{'killed  ' if proc.returncode else 'SURVIVED'} {bug.name}: {failed[:1] or proc.stdout[-200:]}")
    return proc.returncode != 0


def main(names: list[str]) -> int:
    chosen = [b for b in BUGS if not names or b.name in names]
    return 0 if all([run(b) for b in chosen]) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
