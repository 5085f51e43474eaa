"""What one transaction of the import did, told to the report only once it commits.

A batch of rows may be written twice (when one of them fails, the batch is undone and written
again with each row in a savepoint of its own): its counts, history entries and `imported_object`
rows are gathered here, saved with two statements at the end of the transaction, and counted
after the commit, so nothing is counted or recorded twice.
"""

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.history import recorder as history
from app.importer.records import Record, Resolved
from app.models import HistoryEntry, ImportedObject
from app.models.base import utcnow

Changes = dict[str, tuple[Any, Any]]
_COLUMNS = ImportedObject.__table__.columns


def _upsert(backend: Any) -> Any:
    statement = backend.insert(ImportedObject)
    replaced = {c.key: statement.excluded[c.key] for c in _COLUMNS if not c.primary_key}
    return statement.on_conflict_do_update(index_elements=["kind", "object_id"], set_=replaced)


# Which objects are the original's, and what each was made from: new or not, one statement.
_REMEMBER = {backend.dialect.name: _upsert(backend) for backend in (postgresql, sqlite)}
_HISTORY = insert(HistoryEntry)


@dataclass
class Ledger:
    source: str
    outcomes: list[tuple[str, Record]] = field(default_factory=list)
    problems: list[tuple[str, Record, str]] = field(default_factory=list)
    remembered: list[ImportedObject] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)

    def done(self, outcome: str, record: Record) -> None:
        self.outcomes.append((outcome, record))

    def problem(self, outcome: str, record: Record, why: str) -> None:
        """`outcome`: "conflicts" or "failed"."""
        self.problems.append((outcome, record, why))

    def imported(self, resolved: Resolved, changes: Changes, outcome: str) -> None:
        """A written object: its `imported` history entry and its `imported_object` row."""
        record = resolved.record
        now = utcnow()
        self.done(outcome, record)
        self.remembered.append(
            ImportedObject(
                kind=record.kind,
                object_id=record.id,
                source=self.source,
                fingerprint=resolved.fingerprint(),
                original_file=resolved.original_file,
                imported_at=now,
            )
        )
        entry = history.values(None, "import", "imported", record.kind, record.id, changes)
        self.history.append({"at": now, **entry})

    def absorb(self, other: "Ledger") -> None:
        self.outcomes += other.outcomes
        self.problems += other.problems
        self.remembered += other.remembered
        self.history += other.history

    async def save(self, session: AsyncSession) -> None:
        """The history entries and `imported_object` rows, in two statements."""
        if self.history:
            await session.execute(_HISTORY, self.history)
        if self.remembered:
            statement = _REMEMBER[session.get_bind().dialect.name]
            rows = [{c.key: getattr(row, c.key) for c in _COLUMNS} for row in self.remembered]
            await session.execute(statement, rows)
