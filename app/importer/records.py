"""The original's objects as the rows they become here, in the order they are written.

A record holds its columns, its references to other objects (resolved when it is written: a
reference to an object that was not imported is left empty), its ordered sets (a portfolio's
tags and gallery) and the timestamps the original shows. Its fingerprint, a digest of all that
as resolved, tells a later run whether the original changed it.
"""

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.importer.shapes import FileObject
from app.importer.snapshot import Snapshot

KINDS = ("media", "employer", "tag", "portfolio", "link", "meta")  # the order of writing
PARENT = "portfolio_id"
# Where an image is required (`image`, `images`): a media file that is an image here. An original
# file not read as one here (a format this service does not take as an image) is left out.
IMAGE = "image"


@dataclass
class Record:
    kind: str
    id: int
    label: str
    columns: dict[str, Any]
    references: dict[str, tuple[str, int | None]] = field(default_factory=dict)  # column -> target
    sets: dict[str, tuple[str, list[int]]] = field(default_factory=dict)  # "tags" -> ("tag", ids)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    file: FileObject | None = None

    @property
    def original_file(self) -> str | None:
        """`<storage key> <size>` of the original's file (media only)."""
        return None if self.file is None else f"{self.file.storage_key} {self.file.size}"

    @property
    def parent(self) -> int | None:
        return self.references[PARENT][1] if PARENT in self.references else None

    def resolved(self, imported: Mapping[str, set[int]]) -> "Resolved":
        """The references and sets kept: those whose target is here and is the original's."""
        references = {
            column: target if target in imported[kind] else None
            for column, (kind, target) in self.references.items()
        }
        sets = {
            name: [pk for pk in ids if pk in imported[kind]]
            for name, (kind, ids) in self.sets.items()
        }
        dropped = [
            f"{kind} {target}"
            for column, (kind, target) in self.references.items()
            if target is not None and references[column] is None
        ] + [
            f"{kind} {pk}"
            for name, (kind, ids) in self.sets.items()
            for pk in ids
            if pk not in sets[name]
        ]
        return Resolved(self, references, sets, dropped)


@dataclass
class Resolved:
    record: Record
    references: dict[str, int | None]
    sets: dict[str, list[int]]
    dropped: list[str]  # targets that were not imported

    @property
    def values(self) -> dict[str, Any]:
        """The row's columns (but `id` and the timestamps)."""
        return {**self.record.columns, **self.references}

    @property
    def original_file(self) -> str | None:
        return self.record.original_file

    def fingerprint(self) -> str:
        shown = {
            "values": self.values,
            "sets": self.sets,
            "created_at": self.record.created_at,
            "updated_at": self.record.updated_at,
            "file": self.original_file,
        }
        text = json.dumps(shown, sort_keys=True, default=str, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()


def _image(item: Any) -> int | None:
    return item.image_data.id if item.image_data is not None else None


def records_of(snapshot: Snapshot) -> dict[str, list[Record]]:
    """Every object of the snapshot as a record, by kind."""
    return {
        "media": list(_media(snapshot)),
        "employer": list(_named(snapshot.employers.values(), "employer")),
        "tag": list(_named(snapshot.tags.values(), "tag")),
        "portfolio": list(_portfolios(snapshot)),
        "link": list(_links(snapshot)),
        "meta": list(_meta(snapshot)),
    }


def _media(snapshot: Snapshot) -> Iterator[Record]:
    for item in snapshot.media.values():
        columns = {"name": item.name} if item.alt is None else {"name": item.name, "alt": item.alt}
        yield Record(
            "media",
            item.id,
            item.name,
            columns,
            created_at=item.created_at,
            updated_at=item.updated_at,
            file=item,
        )


def _named(items: Any, kind: str) -> Iterator[Record]:
    for item in items:
        columns = {"name": item.name}
        if kind == "employer":
            columns["description"] = item.description
        yield Record(
            kind,
            item.id,
            item.name,
            columns,
            {"image_id": (IMAGE, _image(item))},
            created_at=item.created_at,
            updated_at=item.updated_at,
        )


def _portfolios(snapshot: Snapshot) -> Iterator[Record]:
    for item in snapshot.portfolios.values():
        employer = item.employer_data.id if item.employer_data is not None else None
        yield Record(
            "portfolio",
            item.id,
            item.title,
            {
                "title": item.title,
                "slug": item.slug,
                "excerpt": item.excerpt,
                "description": item.description,
                "order": item.order,
                "is_active": item.is_active,
                "completed_at": item.completed_at,
            },
            {"image_id": (IMAGE, _image(item)), "employer_id": ("employer", employer)},
            {
                "tags": ("tag", list(dict.fromkeys(tag.id for tag in item.tags_data))),
                "images": (IMAGE, list(dict.fromkeys(image.id for image in item.images_data))),
            },
            created_at=item.created_at,
            updated_at=item.updated_at,
        )


def _links(snapshot: Snapshot) -> Iterator[Record]:
    for portfolio_id, links in snapshot.links.items():
        for link in links:
            yield Record(
                "link",
                link.id,
                link.name,
                {
                    "name": link.name,
                    "url": link.url,
                    "description": link.description,
                    "order": link.order or 0,
                },
                {PARENT: ("portfolio", portfolio_id), "image_id": (IMAGE, _image(link))},
                created_at=link.created_at,
                updated_at=link.updated_at,
            )


def _meta(snapshot: Snapshot) -> Iterator[Record]:
    for portfolio in snapshot.portfolios.values():
        for item in portfolio.meta:
            file = item.value_file.id if item.value_file is not None else None
            yield Record(
                "meta",
                item.id,
                item.key,
                {"key": item.key, "value_text": item.value_text},
                {PARENT: ("portfolio", portfolio.id), "value_file_id": ("media", file)},
            )
