"""The link store (a junction table): one link per related pair, whichever side names it.

``PUT /Leads/L/Campaigns`` (id C) and ``PUT /Campaigns/C/Leads`` (id L) address the same
link, stored under the relation's fixed orientation (Campaigns first) with its junction fields.
An index from every record id to its links answers "relations of X" from either side.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from airflow_provider_zohorel.emulator.model.catalog import Relation

#: (relation name, first id, second id, junction fields)
LinkRow = tuple[str, str, str, dict[str, Any]]


class LinkStore:
    """All links with their junction fields."""

    def __init__(self) -> None:
        self.links: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
        self._by_record: dict[str, set[tuple[str, str]]] = {}
        self.count = 0

    def table(self, relation: Relation) -> dict[tuple[str, str], dict[str, Any]]:
        """The links of one relation, keyed (first id, second id) (created empty if needed)."""
        table = self.links.get(relation.name)
        if table is None:
            table = self.links[relation.name] = {}
        return table

    def insert(self, relation: Relation, key: tuple[str, str], values: dict[str, Any]) -> None:
        """Store a new link (the caller checked it does not exist) and index both ends."""
        self.table(relation)[key] = dict(values)
        first_id, second_id = key
        by_record = self._by_record
        for record_id, partner in ((first_id, second_id), (second_id, first_id)):
            partners = by_record.get(record_id)
            if partners is None:
                by_record[record_id] = {(relation.name, partner)}
            else:
                partners.add((relation.name, partner))
        self.count += 1

    def upsert(self, relation: Relation, first_id: str, second_id: str, values: dict[str, Any]) -> bool:
        """Create or update a link; returns True when it did not exist before."""
        key = (first_id, second_id)
        stored = self.table(relation).get(key)
        if stored is not None:
            stored.update(values)
            return False
        self.insert(relation, key, values)
        return True

    def get(self, relation: Relation, first_id: str, second_id: str) -> dict[str, Any] | None:
        """The junction fields of one link, or None."""
        table = self.links.get(relation.name)
        return None if table is None else table.get((first_id, second_id))

    def of_record(self, record_id: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(relation name, partner id, fields) for every link of a record, from either side."""
        for name, partner in sorted(self._by_record.get(record_id, ())):
            table = self.links[name]
            fields = table.get((record_id, partner))
            if fields is None:
                fields = table[(partner, record_id)]
            yield name, partner, fields

    def rows(self, relation: str | None = None) -> Iterator[LinkRow]:
        """Every link, optionally of one relation."""
        for name, table in self.links.items():
            if relation is not None and name != relation:
                continue
            for (first, second), fields in table.items():
                yield name, first, second, fields
