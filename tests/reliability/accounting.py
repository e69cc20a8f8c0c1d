"""The accounting invariant, checked against what Zoho (the emulator) holds, not against the
operator's own counters alone.

For every run, each input item (after de-duplication: the last row wins per (parent, related))
appears exactly once in the outcome: either succeeded, and then Zoho holds the relation with the
fields sent, or failed with a code and a message. ``succeeded + failed == total``, and Zoho's
junction rows equal the succeeded items (plus whatever it held before the run).

One honest exception is spelled out rather than hidden: an item whose call lost an answer on some
attempt (connection dropped after Zoho applied it, or a timeout) may be held by Zoho although the
call finally failed; its reported code is the *last* attempt's (``CONNECTION_ERROR``, ``TIMEOUT``,
or e.g. ``INTERNAL_ERROR`` when a 500 followed the lost answer). Scenarios that inject lost answers
pass those codes as ``uncertain_codes``; such items are still reported as failed (never as
succeeded), and a re-run makes them certain.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

Key = tuple[str, str]


class Admin(Protocol):
    def export_relations(self, relation: str | None = None) -> list[Any]: ...


@dataclass
class Ledger:
    """Figures for the closing note, printed at the end of the pytest session."""

    scenarios: int = 0
    items_checked: int = 0
    items_lost: int = 0
    items_double_counted: int = 0
    items_uncertain_applied: int = 0
    names: list[str] = field(default_factory=list)


LEDGER = Ledger()


def _id(value: Any) -> str:
    return value.strip() if isinstance(value, str) else str(value)


def expected_items(
    records: Iterable[Mapping[str, Any]],
    *,
    parent_key: str = "record_id",
    related_key: str = "id",
    record_id: Any = None,
) -> dict[Key, dict[str, Any]]:
    """The de-duplicated items a run must account for: (parent, related) -> fields, last one wins."""
    items: dict[Key, dict[str, Any]] = {}
    for row in records:
        parent = _id(record_id if record_id is not None else row[parent_key])
        key = (parent, _id(row[related_key]))
        items.pop(key, None)
        items[key] = {k: v for k, v in row.items() if k not in (parent_key, related_key)}
    return items


def _same(sent: Any, held: Any) -> bool:
    if isinstance(sent, (int, float)) and not isinstance(sent, bool):
        return isinstance(held, (int, float)) and math.isclose(float(sent), float(held))
    return bool(sent == held)


def held_relations(admin: Admin, relation: str, parent_module: str) -> dict[Key, dict[str, Any]]:
    """Zoho's junction rows of ``relation`` as (parent, related) -> fields; fails on a duplicate row."""
    held: dict[Key, dict[str, Any]] = {}
    for row in admin.export_relations(relation):
        if row.first_module == parent_module:
            key = (row.first_id, row.second_id)
        else:
            key = (row.second_id, row.first_id)
        assert key not in held, f"Zoho holds the relation {key} twice"
        held[key] = dict(row.fields)
    return held


@dataclass(frozen=True)
class Accounting:
    total: int
    succeeded: int
    failed: int
    uncertain_applied: int


def assert_accounted(
    input_records: Iterable[Mapping[str, Any]],
    summary: Mapping[str, Any],
    admin: Admin,
    *,
    relation: str = "Campaigns-Leads",
    parent_module: str = "Campaigns",
    parent_key: str = "record_id",
    related_key: str = "id",
    record_id: Any = None,
    before: Mapping[Key, Mapping[str, Any]] | None = None,
    failed_items: list[Mapping[str, Any]] | None = None,
    uncertain_codes: Iterable[str] = (),
    scenario: str = "",
) -> Accounting:
    """Assert the accounting invariant for one run and record its figures in :data:`LEDGER`.

    :param before: Zoho's rows of the relation before the run (default: none); rows the run did
        not touch must be unchanged, rows it touched must hold the fields it sent.
    :param failed_items: every failed item (e.g. from ``failed_items_table``) when the summary's
        list is capped; by default the summary's own list, which must then be complete.
    :param uncertain_codes: failure codes after which Zoho may or may not hold the item.
    :param scenario: printed in every assertion message (put the random seed here).
    """
    where = f"[{scenario}] " if scenario else ""
    expected = expected_items(
        input_records, parent_key=parent_key, related_key=related_key, record_id=record_id
    )
    baseline = {k: dict(v) for k, v in (before or {}).items()}
    held = held_relations(admin, relation, parent_module)
    uncertain = frozenset(uncertain_codes)

    failures = list(summary["failed_items"]) if failed_items is None else list(failed_items)
    failed_keys = Counter((_id(f["record_id"]), _id(f["id"])) for f in failures)
    failed_codes = {(_id(f["record_id"]), _id(f["id"])): f["code"] for f in failures}
    succeeded_keys = set(expected) - set(failed_keys)

    # Figures first (an assertion below must not hide them from the closing note).
    lost = [k for k in succeeded_keys if k not in held]
    unaccounted = max(0, len(expected) - summary["total"])
    doubled = sum(n - 1 for n in failed_keys.values() if n > 1) + max(0, summary["total"] - len(expected))
    applied_uncertain = sum(
        1 for k in failed_keys if k in held and k not in baseline and failed_codes[k] in uncertain
    )
    LEDGER.scenarios += 1
    LEDGER.items_checked += len(expected)
    LEDGER.items_lost += len(lost) + unaccounted
    LEDGER.items_double_counted += doubled
    LEDGER.items_uncertain_applied += applied_uncertain
    LEDGER.names.append(scenario or "unnamed")

    # The summary's own arithmetic.
    by_code = Counter({k: v for k, v in summary["by_code"].items() if v})
    assert summary["total"] == len(expected), (
        f"{where}summary counts {summary['total']} items, the input has {len(expected)} after de-duplication"
    )
    assert summary["succeeded"] + summary["failed"] == summary["total"], (
        f"{where}succeeded {summary['succeeded']} + failed {summary['failed']} != total {summary['total']}"
    )
    assert sum(by_code.values()) == summary["total"], f"{where}by_code {dict(by_code)} != total"
    assert by_code.get("SUCCESS", 0) == summary["succeeded"], f"{where}by_code {dict(by_code)}"
    assert summary["added"] + summary["updated"] == summary["succeeded"], (
        f"{where}added {summary['added']} + updated {summary['updated']} != succeeded {summary['succeeded']}"
    )

    # Every failure is one input item, listed once, with a code and a message.
    if failed_items is None:
        assert summary.get("failed_items_truncated", 0) == 0, (
            f"{where}the summary's failed_items list is capped; pass the full list (failed_items_table)"
        )
    assert sum(failed_keys.values()) == summary["failed"], (
        f"{where}{summary['failed']} failed but {sum(failed_keys.values())} failed items listed"
    )
    assert doubled == 0, (
        f"{where}items listed as failed twice: {[k for k, n in failed_keys.items() if n > 1]}"
    )
    strangers = set(failed_keys) - set(expected)
    assert not strangers, f"{where}failed items that were never in the input: {sorted(strangers)[:5]}"
    assert Counter(f["code"] for f in failures) == by_code - Counter({"SUCCESS": by_code["SUCCESS"]}), (
        f"{where}failed items' codes disagree with by_code"
    )
    for f in failures:
        assert f["code"], f"{where}failed item without a code: {f}"
        assert f["code"] != "SUCCESS", f"{where}failed item with code SUCCESS: {f}"
        assert f["message"], f"{where}failed item without a message: {f}"

    # What Zoho holds.
    assert not lost, f"{where}{len(lost)} items reported succeeded are not in Zoho, e.g. {lost[:5]}"
    for key in succeeded_keys:
        sent = expected[key]
        wrong = {name: (value, held[key].get(name)) for name, value in sent.items()}
        wrong = {n: sv for n, sv in wrong.items() if not _same(sv[0], sv[1])}
        assert not wrong, f"{where}Zoho holds other field values for {key}: (sent, held) {wrong}"
    for key, code in failed_codes.items():
        if key in held and held[key] != baseline.get(key):
            assert code in uncertain, (
                f"{where}{key} failed with {code} but Zoho holds it (only a lost answer may do that)"
            )
    extra = set(held) - set(expected) - set(baseline)
    assert not extra, f"{where}Zoho holds {len(extra)} relations nobody sent, e.g. {sorted(extra)[:5]}"
    for key, fields in baseline.items():
        if key not in expected:
            assert held.get(key) == fields, f"{where}an untouched relation changed: {key}"
    return Accounting(len(expected), summary["succeeded"], summary["failed"], applied_uncertain)


def assert_mirrored(
    input_records: Iterable[Mapping[str, Any]],
    summary: Mapping[str, Any],
    admin: Admin,
    *,
    before: Mapping[Key, Mapping[str, Any]],
    relation: str = "Campaigns-Leads",
    parent_module: str = "Campaigns",
    scenario: str = "",
) -> None:
    """The invariant of a mirror run that succeeded, extended to delinks: every parent the input
    names holds exactly the input's relations with the fields sent, every other parent holds what
    it held ``before``, and each delink Zoho made is counted once (``delinked`` equals the
    relations of touched parents that the input no longer lists)."""
    where = f"[{scenario}] " if scenario else ""
    expected = expected_items(input_records)
    touched = {parent for parent, _ in expected}
    to_delink = {key for key in before if key[0] in touched and key not in expected}
    held = held_relations(admin, relation, parent_module)
    LEDGER.scenarios += 1
    LEDGER.items_checked += len(expected) + len(to_delink)
    lost = [key for key in expected if key not in held] + [key for key in to_delink if key in held]
    LEDGER.items_lost += len(lost)
    LEDGER.names.append(scenario or "unnamed mirror")

    assert summary["outcome"] == "success", f"{where}{summary['by_code']} {summary['failed_items'][:3]}"
    assert summary["total"] == len(expected) + len(to_delink), (
        f"{where}summary counts {summary['total']} items; the input has {len(expected)} and "
        f"{len(to_delink)} relations left it"
    )
    assert summary["succeeded"] + summary["failed"] == summary["total"], f"{where}succeeded + failed != total"
    assert (
        summary["added"] + summary["updated"] + summary["delinked"] + summary["unchanged"]
        == (summary["succeeded"])
    ), f"{where}added + updated + delinked + unchanged != succeeded"
    assert (summary["delinked"], summary["delink_failed"]) == (len(to_delink), 0), where
    assert not lost, f"{where}{len(lost)} relations differ from the input, e.g. {lost[:5]}"
    mine = {key: fields for key, fields in held.items() if key[0] in touched}
    assert set(mine) == set(expected), f"{where}the touched parents do not hold exactly the input"
    for key, sent in expected.items():
        wrong = {n: (v, mine[key].get(n)) for n, v in sent.items() if not _same(v, mine[key].get(n))}
        assert not wrong, f"{where}Zoho holds other field values for {key}: (sent, held) {wrong}"
    others = {key: fields for key, fields in held.items() if key[0] not in touched}
    untouched = {key: dict(fields) for key, fields in before.items() if key[0] not in touched}
    assert others == untouched, f"{where}a parent absent from the input changed"
