"""Scores per module from mutmut 2's cache (``.mutmut-cache``, SQLite), for tests/MUTATION.md.

Usage: ``python scripts/mutation_report.py CACHE... [--survivors]`` (the caches under
.tmp/mutation/). The score is (killed + timed out) / tested: a timeout is tests that did not pass.
"""

from __future__ import annotations

import sqlite3
import sys
from collections import defaultdict
from contextlib import closing


def main(caches: list[str], survivors: bool) -> None:
    rows = []
    for cache in caches:
        with closing(sqlite3.connect(cache)) as db:
            rows += db.execute(
                "SELECT s.filename, l.line_number, l.line, m.id, m.status FROM mutant m "
                "JOIN line l ON m.line = l.id JOIN sourcefile s ON l.sourcefile = s.id"
            ).fetchall()
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for filename, _, _, _, status in rows:
        counts[filename][status] += 1
    print(f"| {'module':<50} | mutants | killed | timeout | survived | untested | score |")
    print(f"|{'-' * 52}|---------|--------|---------|----------|----------|-------|")
    for filename in sorted(counts):
        c = counts[filename]
        killed = c["ok_killed"] + c["ok_suspicious"]
        tested = killed + c["bad_timeout"] + c["bad_survived"]
        score = f"{100 * (killed + c['bad_timeout']) / tested:.1f}%" if tested else "-"
        print(
            f"| {filename:<50} | {sum(c.values()):>7} | {killed:>6} | {c['bad_timeout']:>7} "
            f"| {c['bad_survived']:>8} | {c['untested']:>8} | {score:>5} |"
        )
    if survivors:
        for filename, number, line, mutant_id, status in sorted(rows):
            if status == "bad_survived":
                print(f"survived #{mutant_id} {filename}:{number + 1}: {line.strip()}")


if __name__ == "__main__":
    main([a for a in sys.argv[1:] if not a.startswith("--")], "--survivors" in sys.argv[1:])
