"""An employer as the API shows it: `EmployerData` inside a portfolio, `EmployerOut` at
`/api/employers/`; `employer_payload` builds the same shape in Python."""

from typing import Any

from app.common.schemas import DateTimeOut
from app.named.read_model import NamedData, named_payload


class EmployerData(NamedData):
    """`employer_data` inside a portfolio."""

    description: str | None


class EmployerOut(EmployerData):
    created_at: DateTimeOut
    updated_at: DateTimeOut


def employer_payload(row: Any, media: dict[int, dict[str, Any]]) -> dict[str, Any]:
    return {**named_payload(row, media), "description": row.description}
