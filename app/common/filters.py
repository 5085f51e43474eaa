"""Filters every list shares: id range, calendar days and ranges of created/updated times."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Query, Request
from sqlalchemy import ColumnElement, SQLColumnExpression, and_, func, or_

from app.common.query import DateQuery, DateTimeQuery, Int64Query
from app.common.sql import S


@dataclass(frozen=True)
class CommonFilters:
    zone: ZoneInfo
    id_min: int | None = None
    id_max: int | None = None
    created_date: date | None = None
    updated_date: date | None = None
    created_from: date | datetime | None = None
    created_to: date | datetime | None = None
    updated_from: date | datetime | None = None
    updated_to: date | datetime | None = None

    @property
    def any(self) -> bool:
        return any(
            value is not None
            for value in (
                self.id_min, self.id_max, self.created_date, self.updated_date,
                self.created_from, self.created_to, self.updated_from, self.updated_to,
            )
        )  # fmt: skip


async def common_filters(
    request: Request,
    id_min: Annotated[Int64Query, Query(description="Smallest id (inclusive).")] = None,
    id_max: Annotated[Int64Query, Query(description="Largest id (inclusive).")] = None,
    created_date: Annotated[DateQuery, Query(description="Created on this day.")] = None,
    updated_date: Annotated[DateQuery, Query(description="Last updated on this day.")] = None,
    created_from: Annotated[DateTimeQuery, Query(description="Created at or after.")] = None,
    created_to: Annotated[
        DateTimeQuery, Query(description="Created at or before (a date covers the whole day).")
    ] = None,
    updated_from: Annotated[DateTimeQuery, Query(description="Updated at or after.")] = None,
    updated_to: Annotated[
        DateTimeQuery, Query(description="Updated at or before (a date covers the whole day).")
    ] = None,
) -> CommonFilters:
    return CommonFilters(
        zone=request.app.state.settings.zone,
        id_min=id_min,
        id_max=id_max,
        created_date=created_date,
        updated_date=updated_date,
        created_from=created_from,
        created_to=created_to,
        updated_from=updated_from,
        updated_to=updated_to,
    )


CommonFiltersDep = Annotated[CommonFilters, Depends(common_filters)]


def _utc(moment: datetime) -> datetime:
    """In UTC; a moment at the calendar's ends that UTC cannot hold becomes that end."""
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        end = datetime.min if moment.year == datetime.min.year else datetime.max
        return end.replace(tzinfo=UTC)


def day_start(day: date, zone: ZoneInfo) -> datetime:
    return _utc(datetime.combine(day, time.min, tzinfo=zone))


def day_end(day: date, zone: ZoneInfo) -> datetime:
    """The start of the next day (exclusive end), or the calendar's end for its last day."""
    if day == date.max:
        return datetime.max.replace(tzinfo=UTC)
    return day_start(day + timedelta(1), zone)


def range_start(value: date | datetime, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return _utc(value if value.tzinfo else value.replace(tzinfo=zone))
    return day_start(value, zone)


def time_conditions(
    column: SQLColumnExpression[Any],
    zone: ZoneInfo,
    *,
    day: date | None = None,
    start: date | datetime | None = None,
    end: date | datetime | None = None,
) -> list[ColumnElement[bool]]:
    conditions = []
    if day is not None:
        conditions += [column >= day_start(day, zone), column < day_end(day, zone)]
    if start is not None:
        conditions.append(column >= range_start(start, zone))
    if isinstance(end, datetime):
        conditions.append(column <= range_start(end, zone))
    elif end is not None:
        conditions.append(column < day_end(end, zone))
    return conditions


def apply_common_filters(
    statement: S,
    filters: CommonFilters,
    id_column: SQLColumnExpression[int],
    created_at: SQLColumnExpression[datetime],
    updated_at: SQLColumnExpression[datetime],
) -> S:
    conditions: list[ColumnElement[bool]] = []
    if filters.id_min is not None:
        conditions.append(id_column >= filters.id_min)
    if filters.id_max is not None:
        conditions.append(id_column <= filters.id_max)
    conditions += time_conditions(
        created_at,
        filters.zone,
        day=filters.created_date,
        start=filters.created_from,
        end=filters.created_to,
    )
    conditions += time_conditions(
        updated_at,
        filters.zone,
        day=filters.updated_date,
        start=filters.updated_from,
        end=filters.updated_to,
    )
    return statement.where(and_(*conditions)) if conditions else statement


def presence_condition(
    column: SQLColumnExpression[Any], present: bool, *, blank_is_absent: bool = False
) -> ColumnElement[bool]:
    """`has_<field>`: whether the value is set (an empty string counting as unset if asked)."""
    if blank_is_absent:
        absent = or_(column.is_(None), func.length(column) == 0)
        return ~absent if present else absent
    return column.is_not(None) if present else column.is_(None)
