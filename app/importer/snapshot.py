"""Everything the original shows, read through its API into one snapshot.

Portfolios page by page (following `next`) with each one's links pages; employers, tags, media
and meta from the portfolios' nested `*_data`; and `/api/media/`, `/api/employers/` and
`/api/tags/` where the original has them (objects no portfolio uses; their collection objects
also show what nested ones leave out, such as timestamps). The bodies are kept as the original
wrote them, for `--verify`.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from app.importer.client import Missing, OriginalClient
from app.importer.shapes import (
    EmployerObject,
    FileObject,
    LinkObject,
    NotTheOriginal,
    PortfolioObject,
    TagObject,
    parse,
)

Body = dict[str, Any]
COLLECTIONS = {"media": "/api/media/", "employer": "/api/employers/", "tag": "/api/tags/"}


@dataclass
class Snapshot:
    portfolios: dict[int, PortfolioObject] = field(default_factory=dict)
    links: dict[int, list[LinkObject]] = field(default_factory=dict)  # by portfolio, as listed
    media: dict[int, FileObject] = field(default_factory=dict)
    employers: dict[int, EmployerObject] = field(default_factory=dict)
    tags: dict[int, TagObject] = field(default_factory=dict)
    # (kind, id) -> the body the original answered (a collection's object over a nested one).
    bodies: dict[tuple[str, int], Body] = field(default_factory=dict)
    collections: set[str] = field(default_factory=set)  # the kinds whose list the original has

    def add_file(self, body: Body | None, item: FileObject | None, *, listed: bool = False) -> None:
        """A file object met anywhere; an image's (or a listed one's) is kept over a meta
        `value_file`, which leaves the image fields out."""
        if body is None or item is None:
            return
        known = self.bodies.get(("media", item.id))
        if listed or known is None or ("thumbnails" in body and "thumbnails" not in known):
            self.media[item.id] = item
            self.bodies[("media", item.id)] = body

    def add_named(self, kind: str, body: Body | None, item: Any, *, listed: bool = False) -> None:
        if body is None or item is None:
            return
        found = self.employers if kind == "employer" else self.tags
        if listed or item.id not in found:
            found[item.id] = item
            self.bodies[(kind, item.id)] = body
        self.add_file(body.get("image_data"), item.image_data)

    def add_portfolio(self, body: Body, portfolio: PortfolioObject) -> None:
        self.portfolios[portfolio.id] = portfolio
        self.bodies[("portfolio", portfolio.id)] = body
        self.add_file(body.get("image_data"), portfolio.image_data)
        self.add_named("employer", body.get("employer_data"), portfolio.employer_data)
        for tag_body, tag in zip(body.get("tags_data") or [], portfolio.tags_data, strict=True):
            self.add_named("tag", tag_body, tag)
        for image_body, image in zip(
            body.get("images_data") or [], portfolio.images_data, strict=True
        ):
            self.add_file(image_body, image)
        for meta_body, item in zip(body.get("meta") or [], portfolio.meta, strict=True):
            self.bodies[("meta", item.id)] = meta_body
            self.add_file(meta_body.get("value_file"), item.value_file)

    def add_link(self, portfolio_id: int, body: Body, link: LinkObject) -> None:
        self.links.setdefault(portfolio_id, []).append(link)
        self.bodies[("link", link.id)] = body
        self.add_file(body.get("image_data"), link.image_data)


Seen = Callable[[int], None]


async def read_original(client: OriginalClient, concurrency: int, seen: Seen) -> Snapshot:
    """The whole snapshot; `seen(n)` is told of every n objects read."""
    snapshot = Snapshot()
    try:
        async for body in client.pages("/api/portfolios/"):
            portfolio = parse(PortfolioObject, body, f"portfolio {body.get('id')}")
            snapshot.add_portfolio(body, portfolio)
            seen(1)
    except Missing:
        raise NotTheOriginal(
            f"{client.base_url}/api/portfolios/ answered 404: not the original API"
        ) from None
    gate = asyncio.Semaphore(concurrency)

    async def links_of(portfolio: PortfolioObject) -> None:
        async with gate:
            await _read_links(client, snapshot, portfolio)
        seen(len(snapshot.links.get(portfolio.id, [])))

    await asyncio.gather(*(links_of(p) for p in list(snapshot.portfolios.values())))
    for kind, path in COLLECTIONS.items():
        read = await _read_collection(client, snapshot, kind, path)
        seen(read)
    return snapshot


async def _read_links(
    client: OriginalClient, snapshot: Snapshot, portfolio: PortfolioObject
) -> None:
    """The portfolio's links pages; an original without the route has its `links_data`."""
    path = f"/api/portfolios/{portfolio.id}/links/"
    snapshot.links[portfolio.id] = []
    try:
        async for body in client.pages(path):
            snapshot.add_link(portfolio.id, body, parse(LinkObject, body, f"link {body.get('id')}"))
    except Missing:
        raw = snapshot.bodies[("portfolio", portfolio.id)].get("links_data") or []
        for body, link in zip(raw, portfolio.links_data, strict=True):
            snapshot.add_link(portfolio.id, body, link)


SHAPES: dict[str, type[BaseModel]] = {
    "media": FileObject,
    "employer": EmployerObject,
    "tag": TagObject,
}


async def _read_collection(client: OriginalClient, snapshot: Snapshot, kind: str, path: str) -> int:
    """Every object of a collection the original has (0 when it answers 404)."""
    read = 0
    try:
        async for body in client.pages(path):
            item = parse(SHAPES[kind], body, f"{kind} {body.get('id')}")
            if kind == "media":
                snapshot.add_file(body, item, listed=True)  # type: ignore[arg-type]
            else:
                snapshot.add_named(kind, body, item, listed=True)
            read += 1
    except Missing:
        return read
    snapshot.collections.add(kind)
    return read
