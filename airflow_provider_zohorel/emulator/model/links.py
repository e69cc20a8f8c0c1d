"""The link store (a junction table): one link per related pair, whichever side names it.

``PUT /Leads/L/Campaigns`` (id C) and ``PUT /Campaigns/C/Leads`` (id L) address the same
link, stored under the relation's fixed orientation (Campaigns first) with its junction fields.
An index from every record id to its links answers "relations of X" from either side.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

#: (relation name, first id, second id, junction fields)
LinkRow = tuple[str, str, str, dict[str, Any]]
LinkKey = tuple[str, str]


class LinkStore:
    """All links with their junction fields, by relation (link table) name."""

    def __init__(self) -> None:
        self.links: dict[str, dict[LinkKey, dict[str, Any]]] = {}
        self._by_record: dict[str, set[tuple[str, str]]] = {}
        self.count = 0

    def table(self, relation: str) -> dict[LinkKey, dict[str, Any]]:
        """The links of one relation, keyed (first id, second id) (created empty if needed)."""
        table = self.links.get(relation)
        if table is None:
            table = self.links[relation] = {}
        return table

    def insert(self, relation: str, key: LinkKey, values: dict[str, Any]) -> None:
        """Store a new link (the caller checked it does not exist) and index both ends."""
        self.table(relation)[key] = dict(values)
        first_id, second_id = key
        by_record = self._by_record
        for record_id, partner in ((first_id, second_id), (second_id, first_id)):
            partners = by_record.get(record_id)
            if partners is None:
                by_record[record_id] = {(relation, partner)}
            else:
                partners.add((relation, partner))
        self.count += 1

    def upsert(self, relation: str, first_id: str, second_id: str, values: dict[str, Any]) -> bool:
        """Create or update a link; returns True when it did not exist before."""
        key = (first_id, second_id)
        stored = self.table(relation).get(key)
        if stored is not None:
            stored.update(values)
            return False
        self.insert(relation, key, values)
        return True

    def delete(self, relation: str, key: LinkKey) -> bool:
        """Remove a link; returns False when there was none."""
        table = self.links.get(relation)
        if table is None or table.pop(key, None) is None:
            return False
        first_id, second_id = key
        for record_id, partner in ((first_id, second_id), (second_id, first_id)):
            partners = self._by_record.get(record_id)
            if partners is not None:
                partners.discard((relation, partner))
                if not partners:
                    del self._by_record[record_id]
        self.count -= 1
        return True

    def get(self, relation: str, key: LinkKey) -> dict[str, Any] | None:
        """The junction fields of one link, or None."""
        table = self.links.get(relation)
        return None if table is None else table.get(key)

    def partners(self, record_id: str, relation: str) -> Iterator[str]:
        """Ids linked to ``record_id`` through ``relation``."""
        for name, partner in self._by_record.get(record_id, ()):
            if name == relation:
                yield partner

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
