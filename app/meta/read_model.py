"""The meta item's response shape, its forms side by side.

- `MetaOut` (embedded in a portfolio's `meta`) and `MetaItemOut` (the item's own endpoints,
  with its timestamps): the Pydantic models, for OpenAPI.
- `meta_payload` / `meta_payloads`: the Python builder, from rows with the meta columns.
- The SQL JSON form is written by PostgreSQL inside the portfolio's JSON (`meta_item` in
  `app.portfolios.read_model._portfolio_json`); the meta endpoints have no database-JSON path.
"""

from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from app.common.crud import with_timestamps
from app.common.schemas import DateTimeOut
from app.media.read_model import FileOut
from app.media.repository import load_files
from app.media.serialize import UrlFor


class MetaOut(BaseModel):
    id: int
    key: str
    value_text: str | None
    value_file: FileOut | None


class MetaItemOut(MetaOut):
    created_at: DateTimeOut
    updated_at: DateTimeOut


def meta_payload(row: Any, files: dict[int, dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": row.id,
        "key": row.key,
        "value_text": row.value_text,
        "value_file": files.get(row.value_file_id) if row.value_file_id else None,
    }


async def meta_payloads(
    session: AsyncSession, rows: list[Any], url_for: UrlFor
) -> list[dict[str, Any]]:
    """`MetaItemOut` bodies for `rows`, their files loaded in one query."""
    files = await load_files(session, [row.value_file_id for row in rows], url_for)
    return [with_timestamps(meta_payload(row, files), row) for row in rows]


async def one_meta_item(session: AsyncSession, item: Any, url_for: UrlFor) -> dict[str, Any]:
    """A meta item's own body (`MetaItemOut`): meta has only the Python form."""
    return (await meta_payloads(session, [item], url_for))[0]
