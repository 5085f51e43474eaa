"""`--verify`: every imported object's body here against the original's, field by field.

Only the fields the original shows are compared (fields this service adds, such as `alt`,
`order`, `variants` or nested timestamps, have nothing to compare with). Ignored by design, and
counted in the report:
- where file URLs (`f`) point: the original writes whatever host it was asked by, and files
  here may be in a bucket, so each URL is compared by the storage key it ends with;
- thumbnail ids: thumbnails are made afresh here;
- the stored size of an image that is smaller here: its location metadata was removed, as on
  upload (the download's size was checked against the original's on the way in);
- the order of `links_data` and `meta` items, matched by id (a gallery's and tags' order is
  compared).
"""

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.importer.ours import body_of
from app.importer.snapshot import Snapshot
from app.media.dependencies import MediaUrls

MATCHED_BY_ID = frozenset({"links_data", "meta"})
IGNORED = {
    "host": "file URLs' origins and prefixes (f, compared by storage key)",
    "thumbnail id": "thumbnail ids (made afresh)",
    "stripped size": "sizes of images stored without their location metadata",
    "item order": "the order of links_data and meta items (matched by id)",
}


@dataclass
class Verification:
    compared: int = 0
    differences: list[str] = field(default_factory=list)
    ignored: Counter[str] = field(default_factory=Counter)

    def lines(self) -> list[str]:
        lines = [f"verify: {self.compared} objects compared, {len(self.differences)} differences"]
        lines += [f"  {difference}" for difference in self.differences]
        for reason, count in self.ignored.items():
            lines.append(f"  ignored by design: {IGNORED[reason]} ({count} fields)")
        return lines


async def verify(
    sessions: async_sessionmaker[AsyncSession],
    url_for: MediaUrls,
    snapshot: Snapshot,
    imported: Mapping[str, set[int]],
) -> Verification:
    result = Verification()
    async with sessions() as session:
        for (kind, object_id), original in snapshot.bodies.items():
            if object_id not in imported.get(kind, ()):
                continue
            ours = await body_of(session, kind, object_id, url_for)
            result.compared += 1
            where = f"{kind} {object_id}"
            if ours is None:
                result.differences.append(f"{where}: not here")
                continue
            _compare(original, ours, where, result)
    return result


def _compare(original: Any, ours: Any, where: str, result: Verification) -> None:
    if isinstance(original, dict):
        _compare_objects(original, ours, where, result)
    elif isinstance(original, list):
        _compare_lists(original, ours, where, result)
    elif not _same(original, ours):
        result.differences.append(f"{where}: original {original!r}, here {ours!r}")


def _compare_objects(original: dict[str, Any], ours: Any, where: str, result: Verification) -> None:
    if not isinstance(ours, dict):
        result.differences.append(f"{where}: original an object, here {ours!r}")
        return
    for key, value in original.items():
        path = f"{where}.{key}"
        if key not in ours:
            result.differences.append(f"{path}: missing here")
        elif key == "f" and isinstance(value, str):
            if not _url_path(ours[key]).endswith(_storage_key(value)):
                result.differences.append(f"{path}: original {value!r}, here {ours[key]!r}")
            else:
                result.ignored["host"] += 1
        elif key == "id" and "/thumbnails/" in str(original.get("f", "")):
            result.ignored["thumbnail id"] += 1
        elif key in ("size", "human_readable_size") and _stripped(original, ours):
            result.ignored["stripped size"] += 1
        elif key in MATCHED_BY_ID and isinstance(value, list):
            _compare_by_id(value, ours[key], path, result)
        else:
            _compare(value, ours[key], path, result)


def _compare_lists(original: list[Any], ours: Any, where: str, result: Verification) -> None:
    if not isinstance(ours, list) or len(ours) != len(original):
        count = len(ours) if isinstance(ours, list) else ours
        result.differences.append(f"{where}: original {len(original)} items, here {count}")
        return
    for n, (theirs, mine) in enumerate(zip(original, ours, strict=True)):
        _compare(theirs, mine, f"{where}[{n}]", result)


def _compare_by_id(original: list[Any], ours: Any, where: str, result: Verification) -> None:
    mine = {item.get("id"): item for item in ours} if isinstance(ours, list) else {}
    if [item.get("id") for item in original] != [item.get("id") for item in ours or []]:
        result.ignored["item order"] += 1
    for item in original:
        if item.get("id") not in mine:
            result.differences.append(f"{where}: item {item.get('id')} missing here")
        else:
            _compare(item, mine[item["id"]], f"{where}[id={item['id']}]", result)
    extra = set(mine) - {item.get("id") for item in original}
    if extra:
        result.differences.append(f"{where}: items {sorted(extra)} only here")


def _stripped(original: dict[str, Any], ours: dict[str, Any]) -> bool:
    return (
        original.get("type") == "image"
        and isinstance(ours.get("size"), int)
        and isinstance(original.get("size"), int)
        and ours["size"] < original["size"]
    )


def _url_path(url: Any) -> str:
    return unquote(urlsplit(str(url)).path)


def _storage_key(url: str) -> str:
    """`/core_media/2026/03/02/a.jpg` of `http://localhost:8000/media/core_media/2026/03/02/a.jpg`."""
    path = _url_path(url)
    at = path.find("/media/")
    return path[at + len("/media") :] if at >= 0 else path


def _same(original: Any, ours: Any) -> bool:
    if original == ours:
        return True
    if isinstance(original, str) and isinstance(ours, str):
        try:  # one instant written two ways ("Z" and "+00:00")
            return datetime.fromisoformat(original) == datetime.fromisoformat(ours)
        except ValueError:
            return False
    return False
