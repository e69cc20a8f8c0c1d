"""Read pip-audit's JSON reports (one per pinned set) and decide: exit 1 on any known vulnerability,
or when pip-audit failed without skipping; say loudly when nothing could be audited (exit 1 then
only with AUDIT_STRICT=1). Used by scripts/audit.sh; stdlib only, so any Python runs it."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def report(directory: Path, pip_audit_failed: bool, strict: bool) -> int:
    found = audited = skipped = 0
    for path in sorted(directory.glob("*.json")):
        for dep in json.loads(path.read_text())["dependencies"]:
            if "skip_reason" in dep:
                skipped += 1
                continue
            audited += 1
            for vuln in dep.get("vulns", []):
                found += 1
                fixes = ", ".join(vuln.get("fix_versions", [])) or "none"
                print(f"audit: {path.stem}: {dep['name']}=={dep['version']} {vuln['id']} (fixed in {fixes})")
    print(f"audit: {audited} pins audited, {skipped} not audited, {found} known vulnerabilities")
    if found or (pip_audit_failed and not skipped):
        return 1
    if audited == 0:
        print(
            "audit: NOT AUDITED: PyPI's advisory data (https://pypi.org/pypi/<name>/<version>/json) "
            "could not be reached for any pin; run scripts/audit.sh where it can"
        )
        return 1 if strict else 0
    return 0


if __name__ == "__main__":
    strict = os.environ.get("AUDIT_STRICT") == "1"
    sys.exit(report(Path(sys.argv[1]), sys.argv[2] != "0", strict))
