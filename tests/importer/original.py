"""A stand-in for the original Django REST Framework deployment of the Portfolio API, served
over real HTTP on loopback, for the tests of `portfolio-api import-original`.

It answers what the original answers, in its shapes (tests/seeds/*.json, shared API.md "Lists",
"Resources", "Moving from the original deployment"), read-only:

- `GET /api/portfolios/`, `/api/portfolios/{id}`, `/api/portfolios/{portfolio_id}/links/`,
  `/api/portfolios/{portfolio_id}/links/{id}`; and unless `collections=False`, `/api/media/`,
  `/api/employers/`, `/api/tags/` and one of each by id. Lists are DRF's LimitOffsetPagination.
- DRF's TokenAuthentication on every `/api/` route (401 bodies and `WWW-Authenticate: Token`),
  403 for every authenticated request when `forbidden=True`; other methods than GET and HEAD 405.
- Django's APPEND_SLASH: a collection path without its slash answers 301 to the slashed path (no
  token needed, as the middleware answers before the view); item paths answer with and without.
  Anything else: 404 `{"detail": "Not found."}`.
- `GET /media/<path>` streams a file's bytes, no token. Each file object's `f` names
  `<media_origin>/media/<path>`; by default an origin on a port that refuses connections, as the
  original's `http://localhost:8000` is from anywhere else, so an importer must fall back to
  `--from`. Thumbnail URLs are on the request's origin and answer 404 (nothing needs them).

Everything is read from `data` at each request: a test may change it between two imports.

The server runs as a task in the test's event loop: run the importer in that loop (awaited, or
as an asyncio subprocess), never with a blocking call such as `subprocess.run`.
"""

import asyncio
import contextlib
import io
import itertools
import mimetypes
import re
import socket
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import PurePosixPath
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit, urlunsplit

import uvicorn
from PIL import Image, ImageDraw
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from tests.media.samples import GPS_IFD, PDF

THUMBNAIL_SIZES = (64, 128, 512, 1080)
MAX_LIMIT = 100  # DRF LimitOffsetPagination.max_limit as the original set it
CHUNK = 64 * 1024

Json = dict[str, Any]


# ---------------------------------------------------------------------------------------------
# The original's data


@dataclass
class OriginalMedia:
    """A row of the original's media table and its file (`content`, stored at `path`)."""

    id: int
    name: str
    content: bytes
    path: str  # storage key, served at /media/<path>
    type: str = "image"  # "image" | "video" | "audio" | "document" | "file"
    thumbnail_ids: list[int] = field(default_factory=list)  # boxes 64, 128, 512, 1080

    @property
    def width(self) -> int:
        return self._image().width

    @property
    def height(self) -> int:
        return self._image().height

    @property
    def mode(self) -> str:
        return self._image().mode

    def _image(self) -> Image.Image:
        """The header of `content` as Pillow reads it (no pixels decoded): live, never cached."""
        return Image.open(io.BytesIO(self.content))


@dataclass
class OriginalEmployer:
    id: int
    name: str
    description: str | None = None
    image: int | None = None
    created_at: str = "2026-01-12T16:43:37.941799Z"
    updated_at: str = "2026-01-12T16:43:37.941805Z"


@dataclass
class OriginalTag:
    id: int
    name: str
    image: int | None = None
    created_at: str = "2026-01-12T16:43:37.941799Z"
    updated_at: str = "2026-01-12T16:43:37.941805Z"


@dataclass
class OriginalPortfolio:
    id: int
    title: str
    slug: str
    excerpt: str | None
    description: str | None
    order: int
    is_active: bool
    completed_at: str | None
    created_at: str
    updated_at: str
    image: int | None
    employer: int | None
    tags: list[int]
    images: list[int]  # the gallery, in its order


@dataclass
class OriginalLink:
    id: int
    portfolio: int
    name: str
    url: str | None
    description: str | None
    image: int | None
    created_at: str
    updated_at: str


@dataclass
class OriginalMeta:
    id: int
    portfolio: int
    key: str
    value_text: str | None
    value_file: int | None


@dataclass
class OriginalData:
    """The original's database, each table by id."""

    media: dict[int, OriginalMedia]
    employers: dict[int, OriginalEmployer]
    tags: dict[int, OriginalTag]
    portfolios: dict[int, OriginalPortfolio]
    links: dict[int, OriginalLink]
    meta: dict[int, OriginalMeta]

    @classmethod
    def sample(
        cls,
        portfolios: int = 3,
        links_per_portfolio: int = 2,
        images: int = 4,
        image_size: tuple[int, int] = (320, 240),
    ) -> "OriginalData":
        """A deterministic original (same bytes every call), as a real one looks:

        - ids with gaps, not from 1: media 88, 90, 91, ...; thumbnails from 229; employers 3, 5,
          6; tags 5, 7, 8; portfolios 150, 152, 153, ...; links 7, 9, 10, ...; meta 21, 23, 24;
        - `images` real images cycling through a JPEG with EXIF GPS, an RGBA PNG, a plain JPEG and
          a palette PNG; then a PDF (type "document", a Persian file name: its URLs are
          percent-encoded) and one unused PNG that only /api/media/ shows;
        - portfolio 150 "Wordpress site" (employer with a logo, two tags, a gallery out of id
          order holding every image, meta with value_text and with value_file = the PDF);
          152 "طراحی سایت" (slug "طراحی-سایت", completed_at None, same order as 150);
          153 inactive with nothing attached; then generic ones;
        - an employer and a tag that no portfolio names (only /api/employers/, /api/tags/).
        """
        return _SampleBuilder(image_size).build(portfolios, links_per_portfolio, images)

    def media_by_path(self, path: str) -> OriginalMedia | None:
        """The media row whose file is stored at `path`."""
        return next((media for media in self.media.values() if media.path == path), None)


# ---------------------------------------------------------------------------------------------
# The sample


def _gapped_ids(start: int) -> Iterator[int]:
    """start, start+2, start+3, start+5, ...: ids of a table that has seen deletions."""
    value = start
    for step in itertools.cycle((2, 1)):
        yield value
        value += step


def drf_datetime(moment: datetime) -> str:
    """A datetime as DRF writes it: UTC, `Z`, microseconds only when not zero."""
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}"
    return text + "Z"


def _clock(start: datetime) -> Iterator[str]:
    """Increasing timestamps, a few hours apart, with varying microseconds."""
    for step in itertools.count():
        yield drf_datetime(start + timedelta(hours=5 * step, microseconds=(step * 137_911) % 10**6))


_COLOURS = ((200, 30, 30), (20, 140, 60), (30, 60, 200), (230, 180, 20), (120, 20, 160))


def _picture(size: tuple[int, int], index: int) -> Image.Image:
    """An RGB picture: gradients and a coloured block placed by `index` (deterministic)."""
    gradient = Image.linear_gradient("L").resize(size)
    mirrored = gradient.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    image = Image.merge("RGB", (gradient, mirrored, Image.new("L", size, (60 * index) % 256)))
    width, height = size
    left = (index * 37) % max(1, width // 2)
    block = (left, height // 4, left + width // 3, height // 2)
    ImageDraw.Draw(image).rectangle(block, fill=_COLOURS[index % len(_COLOURS)])
    return image


def _encoded(image: Image.Image, fmt: str, **options: Any) -> bytes:
    output = io.BytesIO()
    image.save(output, fmt, **options)
    return output.getvalue()


def _located_jpeg(image: Image.Image) -> bytes:
    """A JPEG carrying EXIF GPS (Tehran), as a phone writes it."""
    exif = Image.Exif()
    location = exif.get_ifd(GPS_IFD)
    location[1], location[2] = "N", (35.0, 41.0, 22.0)
    location[3], location[4] = "E", (51.0, 23.0, 1.0)
    return _encoded(image, "JPEG", quality=85, exif=exif)


def _rgba_png(image: Image.Image) -> bytes:
    rgba = image.convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize(image.size))
    return _encoded(rgba, "PNG")


def _palette_png(image: Image.Image) -> bytes:
    return _encoded(image.convert("P", palette=Image.Palette.ADAPTIVE, colors=16), "PNG")


# (name, stem, extension, encoder) for image k, cycling
_IMAGE_KINDS: tuple[tuple[str, str, str, Callable[[Image.Image], bytes]], ...] = (
    ("عکس کارگاه", "IMG_2041", "jpg", _located_jpeg),
    ("logo", "logo_transparent", "png", _rgba_png),
    ("screenshot", "screenshot_home", "jpg", lambda image: _encoded(image, "JPEG", quality=80)),
    ("diagram", "diagram", "png", _palette_png),
)


class _SampleBuilder:
    """Builds OriginalData.sample(), table by table."""

    def __init__(self, image_size: tuple[int, int]) -> None:
        self.image_size = image_size
        self.clock = _clock(datetime(2025, 11, 2, 9, 15, 42, 118_402, tzinfo=UTC))
        self.data = OriginalData(media={}, employers={}, tags={}, portfolios={}, links={}, meta={})
        self.image_ids: list[int] = []

    def build(self, portfolios: int, links_per_portfolio: int, images: int) -> OriginalData:
        self._media(images)
        self._employers()
        self._tags()
        self._portfolios(portfolios)
        self._links(links_per_portfolio)
        self._meta()
        return self.data

    def pick(self, index: int) -> int | None:
        """Image `index`, cycling; None when the sample has no images."""
        return self.image_ids[index % len(self.image_ids)] if self.image_ids else None

    def picks(self, *indexes: int) -> list[int]:
        """Images by index, without repeats, in the order given."""
        chosen = (self.pick(index) for index in indexes)
        return list(dict.fromkeys(media_id for media_id in chosen if media_id is not None))

    def _add_media(self, media: OriginalMedia) -> None:
        self.data.media[media.id] = media

    def _media(self, images: int) -> None:
        ids = _gapped_ids(88)
        for index in range(images):
            name, stem, extension, encode = _IMAGE_KINDS[index % len(_IMAGE_KINDS)]
            suffix = "" if index < len(_IMAGE_KINDS) else f"_{index}"
            media_id = next(ids)
            self._add_media(
                OriginalMedia(
                    id=media_id,
                    name=name + suffix.replace("_", " "),
                    content=encode(_picture(self.image_size, index)),
                    path=f"core_media/2026/03/{1 + index % 28:02d}/{stem}{suffix}.{extension}",
                    thumbnail_ids=[229 + 6 * index + box for box in range(4)],
                )
            )
            self.image_ids.append(media_id)
        self.pdf_id = next(ids)
        self._add_media(
            OriginalMedia(
                id=self.pdf_id,
                name="بروشور",
                content=PDF,
                path="core_media/2026/02/11/بروشور_پروژه.pdf",
                type="document",
            )
        )
        self.unused_media_id = next(ids)
        self._add_media(
            OriginalMedia(
                id=self.unused_media_id,
                name="unused banner",
                content=_encoded(_picture((96, 32), images), "PNG"),
                path="core_media/2025/11/30/unused_banner.png",
                thumbnail_ids=[229 + 6 * images + box for box in range(4)],
            )
        )

    def _employers(self) -> None:
        ids = _gapped_ids(3)
        rows = (
            ("دیجی‌کالا", "فروشگاه اینترنتی", self.pick(1)),
            ("Acme", None, None),
            ("Old Client Ltd", "named by no portfolio", None),
        )
        for name, description, image in rows:
            created = next(self.clock)
            employer_id = next(ids)
            self.data.employers[employer_id] = OriginalEmployer(
                employer_id, name, description, image, created, next(self.clock)
            )
        self.with_logo, self.without_logo, _unused = self.data.employers

    def _tags(self) -> None:
        ids = _gapped_ids(5)
        for name, image in (("طراحی سایت", self.pick(3)), ("python", None), ("archive", None)):
            created = next(self.clock)
            tag_id = next(ids)
            self.data.tags[tag_id] = OriginalTag(tag_id, name, image, created, next(self.clock))
        self.persian_tag, self.python_tag, _unused = self.data.tags

    def _portfolios(self, count: int) -> None:
        ids = _gapped_ids(150)
        for index in range(count):
            portfolio = self._portfolio(next(ids), index)
            self.data.portfolios[portfolio.id] = portfolio

    def _portfolio(self, portfolio_id: int, index: int) -> OriginalPortfolio:
        created = next(self.clock)
        common: Json = {"id": portfolio_id, "created_at": created, "updated_at": next(self.clock)}
        if index == 0:
            extra_images = range(len(self.image_ids) - 1, len(_IMAGE_KINDS) - 1, -1)
            return OriginalPortfolio(
                **common,
                title="Wordpress site",
                slug="wordpress-site",
                excerpt="a wordpress site built with elementor and great performance",
                description="this can be a long text describing the project",
                order=1,
                is_active=True,
                completed_at="2024-12-14T00:00:00Z",
                image=self.pick(0),
                employer=self.with_logo,
                tags=[self.persian_tag, self.python_tag],
                images=self.picks(2, 0, 1, *extra_images),
            )
        if index == 1:
            return OriginalPortfolio(
                **common,
                title="طراحی سایت",
                slug="طراحی-سایت",
                excerpt="یک فروشگاه اینترنتی با پرداخت آنلاین",
                description="توضیحات کامل پروژه\nدر چند خط.",
                order=1,
                is_active=True,
                completed_at=None,
                image=self.pick(3),
                employer=self.without_logo,
                tags=[self.python_tag, self.persian_tag],
                images=self.picks(3, 2),
            )
        if index == 2:
            return OriginalPortfolio(
                **common,
                title="Internal dashboard",
                slug="internal-dashboard",
                excerpt=None,
                description=None,
                order=0,
                is_active=False,
                completed_at="2023-06-01T08:30:00.500000Z",
                image=None,
                employer=None,
                tags=[],
                images=[],
            )
        return OriginalPortfolio(
            **common,
            title=f"Project {index + 1}",
            slug=f"project-{index + 1}",
            excerpt=f"project number {index + 1}",
            description="",
            order=index,
            is_active=True,
            completed_at=drf_datetime(datetime(2024, 1 + index % 12, 3, tzinfo=UTC)),
            image=self.pick(index),
            employer=self.with_logo if index % 2 else None,
            tags=[self.python_tag],
            images=self.picks(index + 1, index),
        )

    def _links(self, per_portfolio: int) -> None:
        ids = _gapped_ids(7)
        for portfolio_id in self.data.portfolios:
            for index in range(per_portfolio):
                link_id = next(ids)
                name, url, description, image = self._link_fields(portfolio_id, index)
                created = next(self.clock)
                self.data.links[link_id] = OriginalLink(
                    link_id, portfolio_id, name, url, description, image, created, next(self.clock)
                )

    def _link_fields(
        self, portfolio_id: int, index: int
    ) -> tuple[str, str | None, str | None, int | None]:
        if index % 3 == 0:
            return "github", f"https://github.com/example/p{portfolio_id}", "", self.pick(2)
        if index % 3 == 1:
            return "دمو پروژه", f"https://demo.example.com/{portfolio_id}/", "لینک مشاهده دمو", None
        return f"case study {index}", None, None, None

    def _meta(self) -> None:
        ids = _gapped_ids(21)
        portfolio_ids = list(self.data.portfolios)
        rows: list[tuple[int, str, str | None, int | None]] = []
        if portfolio_ids:
            rows += [
                (portfolio_ids[0], "client", "دیجی‌کالا", None),
                (portfolio_ids[0], "brochure", None, self.pdf_id),
            ]
        if len(portfolio_ids) > 1:
            rows.append((portfolio_ids[1], "year", "۱۴۰۲", None))
        for portfolio_id, key, text, file_id in rows:
            meta_id = next(ids)
            self.data.meta[meta_id] = OriginalMeta(meta_id, portfolio_id, key, text, file_id)


# ---------------------------------------------------------------------------------------------
# The original's response shapes


def human_readable_size(size: int) -> str:
    """The original's: divided by 1024 per unit, two decimals ("71.35 KB", "512.00 B")."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024:
            return f"{value:.2f} {unit}"
        value /= 1024
    return f"{value:.2f} TB"


def file_url(origin: str, path: str) -> str:
    """Django's FileField.url: the storage key percent-encoded as filepath_to_uri does."""
    return f"{origin}/media/" + quote(path, safe="/~!*()'")


def thumbnail_path(path: str, box: int) -> str:
    """`<dir>/thumbnails/<stem>_thumbnail_<s>x<s>.<ext>` beside the original."""
    original = PurePosixPath(path)
    name = f"{original.stem}_thumbnail_{box}x{box}{original.suffix}"
    return str(original.parent / "thumbnails" / name)


def _newest_first(created_at: str, row_id: int) -> tuple[float, int]:
    """The sort key of `-created_at` with ties broken by `-id`."""
    return -datetime.fromisoformat(created_at).timestamp(), -row_id


@dataclass
class _Shapes:
    """Serialises rows as the original's DRF serializers do, for one request."""

    data: OriginalData
    media_origin: str  # where `f` points
    request_origin: str  # scheme://host of the request: thumbnails point there

    def file(self, media_id: int | None, *, image_fields: bool = True) -> Json | None:
        """The file object of a reference; null when unset (or the row is gone)."""
        media = self.data.media.get(media_id) if media_id is not None else None
        return None if media is None else self.media_file(media, image_fields=image_fields)

    def media_file(self, media: OriginalMedia, *, image_fields: bool = True) -> Json:
        """`{id, type, name, size, human_readable_size, f}`, and for an image `width, height,
        mode, thumbnails` (`f` on the media origin, thumbnails on the request's)."""
        shape: Json = {
            "id": media.id,
            "type": media.type,
            "name": media.name,
            "size": len(media.content),
            "human_readable_size": human_readable_size(len(media.content)),
            "f": file_url(self.media_origin, media.path),
        }
        if image_fields and media.type == "image":
            shape |= {"width": media.width, "height": media.height, "mode": media.mode}
            boxes = zip(media.thumbnail_ids, THUMBNAIL_SIZES, strict=False)
            shape["thumbnails"] = [self.thumbnail(media, id_, box) for id_, box in boxes]
        return shape

    def thumbnail(self, media: OriginalMedia, thumbnail_id: int, box: int) -> Json:
        """`{id, f, size}`, size being the box's edge."""
        url = file_url(self.request_origin, thumbnail_path(media.path, box))
        return {"id": thumbnail_id, "f": url, "size": box}

    def files(self, media_ids: Iterable[int]) -> list[Json]:
        """A gallery in its order; rows that are gone drop out."""
        return [shape for media_id in media_ids if (shape := self.file(media_id)) is not None]

    def employer(self, employer: OriginalEmployer) -> Json:
        return {
            "id": employer.id,
            "name": employer.name,
            "description": employer.description,
            "image_data": self.file(employer.image),
            "created_at": employer.created_at,
            "updated_at": employer.updated_at,
        }

    def nested_employer(self, employer_id: int | None) -> Json | None:
        employer = self.data.employers.get(employer_id) if employer_id is not None else None
        if employer is None:
            return None
        return {
            "id": employer.id,
            "name": employer.name,
            "image_data": self.file(employer.image),
            "description": employer.description,
        }

    def tag(self, tag: OriginalTag) -> Json:
        return {
            "id": tag.id,
            "name": tag.name,
            "image_data": self.file(tag.image),
            "created_at": tag.created_at,
            "updated_at": tag.updated_at,
        }

    def nested_tag(self, tag: OriginalTag) -> Json:
        return {"id": tag.id, "name": tag.name, "image_data": self.file(tag.image)}

    def link(self, link: OriginalLink) -> Json:
        """As list_links.json, retrieve_link.json."""
        return {
            "id": link.id,
            "name": link.name,
            "url": link.url,
            "image_data": self.file(link.image),
            "description": link.description,
            "created_at": link.created_at,
            "updated_at": link.updated_at,
        }

    def nested_link(self, link: OriginalLink) -> Json:
        return {
            "id": link.id,
            "name": link.name,
            "url": link.url,
            "description": link.description,
            "image_data": self.file(link.image),
        }

    def meta(self, meta: OriginalMeta) -> Json:
        return {
            "id": meta.id,
            "key": meta.key,
            "value_text": meta.value_text,
            "value_file": self.file(meta.value_file, image_fields=False),
        }

    def portfolio(self, portfolio: OriginalPortfolio) -> Json:
        """As update_portfolio.json, key for key."""
        tags = (self.data.tags[tag_id] for tag_id in portfolio.tags if tag_id in self.data.tags)
        meta = sorted(
            (row for row in self.data.meta.values() if row.portfolio == portfolio.id),
            key=lambda row: row.id,
        )
        return {
            "id": portfolio.id,
            "title": portfolio.title,
            "slug": portfolio.slug,
            "excerpt": portfolio.excerpt,
            "order": portfolio.order,
            "image_data": self.file(portfolio.image),
            "employer_data": self.nested_employer(portfolio.employer),
            "tags_data": [self.nested_tag(tag) for tag in tags],
            "links_data": [self.nested_link(link) for link in links_of(self.data, portfolio.id)],
            "is_active": portfolio.is_active,
            "completed_at": portfolio.completed_at,
            "created_at": portfolio.created_at,
            "updated_at": portfolio.updated_at,
            "description": portfolio.description,
            "images_data": self.files(portfolio.images),
            "meta": [self.meta(row) for row in meta],
        }


def portfolios_in_order(data: OriginalData) -> list[OriginalPortfolio]:
    """The original's default ordering: `order`, then `-created_at`, then `-id`."""
    return sorted(
        data.portfolios.values(), key=lambda p: (p.order, *_newest_first(p.created_at, p.id))
    )


def links_of(data: OriginalData, portfolio_id: int) -> list[OriginalLink]:
    """A portfolio's links, `-created_at` then `-id` (list_links.json's order)."""
    links = (link for link in data.links.values() if link.portfolio == portfolio_id)
    return sorted(links, key=lambda link: _newest_first(link.created_at, link.id))


# ---------------------------------------------------------------------------------------------
# DRF's LimitOffsetPagination


def _positive_int(raw: str, *, strict: bool = False, cutoff: int | None = None) -> int:
    """rest_framework.pagination._positive_int: ValueError unless an integer >= 0 (> 0 if
    strict), clipped to `cutoff`."""
    value = int(raw)
    if value < 0 or (value == 0 and strict):
        raise ValueError(raw)
    return min(value, cutoff) if cutoff else value


def _with_param(url: str, key: str, value: int | None) -> str:
    """DRF's replace_query_param, or remove_query_param when `value` is None: the other
    parameters kept, all of them sorted."""
    scheme, netloc, path, query, fragment = urlsplit(url)
    params = parse_qs(query, keep_blank_values=True)
    if value is None:
        params.pop(key, None)
    else:
        params[key] = [str(value)]
    query = urlencode(sorted(params.items()), doseq=True)
    return urlunsplit((scheme, netloc, path, query, fragment))


def absolute_url(request: Request) -> str:
    """Django's request.build_absolute_uri(): scheme, the Host header, the path as sent, the
    query."""
    url = f"{request.url.scheme}://{request.url.netloc}{request.scope['raw_path'].decode()}"
    if query := request.url.query:
        url += f"?{query}"
    return url


def paginated(
    request: Request, rows: Sequence[Any], default_limit: int, shape: Callable[[Any], Json]
) -> Json:
    """One page of `rows` as DRF's LimitOffsetPagination answers it. A bad `limit` or `offset`
    falls back to the default (the original has no 400 for them)."""
    try:
        limit = _positive_int(request.query_params["limit"], strict=True, cutoff=MAX_LIMIT)
    except (KeyError, ValueError):
        limit = default_limit
    try:
        offset = _positive_int(request.query_params["offset"])
    except (KeyError, ValueError):
        offset = 0
    count = len(rows)
    here = _with_param(absolute_url(request), "limit", limit)
    following = None if offset + limit >= count else _with_param(here, "offset", offset + limit)
    previous = None
    if offset > 0:
        previous = _with_param(here, "offset", offset - limit if offset - limit > 0 else None)
    page = rows[offset : offset + limit] if offset <= count else []
    return {
        "count": count,
        "next": following,
        "previous": previous,
        "results": [shape(row) for row in page],
    }


# ---------------------------------------------------------------------------------------------
# Routes: each finds its rows (a collection) or its row (an item) in the data; None is a 404

Ids = dict[str, int]


def _portfolios(data: OriginalData, _ids: Ids) -> list[OriginalPortfolio]:
    return portfolios_in_order(data)


def _portfolio(data: OriginalData, ids: Ids) -> OriginalPortfolio | None:
    return data.portfolios.get(ids["id"])


def _links(data: OriginalData, ids: Ids) -> list[OriginalLink] | None:
    if ids["portfolio_id"] not in data.portfolios:
        return None
    return links_of(data, ids["portfolio_id"])


def _link(data: OriginalData, ids: Ids) -> OriginalLink | None:
    """A link under another portfolio's path is not found."""
    link = data.links.get(ids["id"])
    return link if link is not None and link.portfolio == ids["portfolio_id"] else None


def _media_files(data: OriginalData, _ids: Ids) -> list[OriginalMedia]:
    """Newest first: the sample's media rows have no timestamps, so by `-id`."""
    return sorted(data.media.values(), key=lambda media: -media.id)


def _media_file(data: OriginalData, ids: Ids) -> OriginalMedia | None:
    return data.media.get(ids["id"])


def _employers(data: OriginalData, _ids: Ids) -> list[OriginalEmployer]:
    return sorted(data.employers.values(), key=lambda row: _newest_first(row.created_at, row.id))


def _employer(data: OriginalData, ids: Ids) -> OriginalEmployer | None:
    return data.employers.get(ids["id"])


def _tags(data: OriginalData, _ids: Ids) -> list[OriginalTag]:
    return sorted(data.tags.values(), key=lambda row: _newest_first(row.created_at, row.id))


def _tag(data: OriginalData, ids: Ids) -> OriginalTag | None:
    return data.tags.get(ids["id"])


@dataclass(frozen=True)
class _Route:
    """A collection's pattern ends with `/` and is paged; an item's matches with or without
    a trailing slash."""

    pattern: str
    find: Callable[[OriginalData, Ids], Any]  # rows of a collection, row of an item, or None
    shape: Callable[[_Shapes, Any], Json]
    optional: bool = False  # served only when Original(collections=True)

    @property
    def collection(self) -> bool:
        return self.pattern.endswith("/")

    def match(self, path: str) -> Ids | None:
        found = re.fullmatch(self.pattern if self.collection else self.pattern + "/?", path)
        return None if found is None else {k: int(v) for k, v in found.groupdict().items()}


PORTFOLIO = r"/api/portfolios/(?P<portfolio_id>\d+)"
ROUTES = (
    _Route(r"/api/portfolios/", _portfolios, _Shapes.portfolio),
    _Route(r"/api/portfolios/(?P<id>\d+)", _portfolio, _Shapes.portfolio),
    _Route(PORTFOLIO + "/links/", _links, _Shapes.link),
    _Route(PORTFOLIO + r"/links/(?P<id>\d+)", _link, _Shapes.link),
    _Route(r"/api/media/", _media_files, _Shapes.media_file, optional=True),
    _Route(r"/api/media/(?P<id>\d+)", _media_file, _Shapes.media_file, optional=True),
    _Route(r"/api/employers/", _employers, _Shapes.employer, optional=True),
    _Route(r"/api/employers/(?P<id>\d+)", _employer, _Shapes.employer, optional=True),
    _Route(r"/api/tags/", _tags, _Shapes.tag, optional=True),
    _Route(r"/api/tags/(?P<id>\d+)", _tag, _Shapes.tag, optional=True),
)


# ---------------------------------------------------------------------------------------------
# Responses


def _detail(status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"detail": detail}, status, headers)


NOT_FOUND = "Not found."
# What Django answers for an unhandled exception with DEBUG off: an HTML page, not DRF's JSON.
SERVER_ERROR_PAGE = (
    '<!doctype html>\n<html lang="en">\n<head>\n  <title>Server Error (500)</title>\n</head>\n'
    "<body>\n  <h1>Server Error (500)</h1><p></p>\n</body>\n</html>\n"
)


class ConnectionCut(Exception):
    """Raised on purpose mid-body: uvicorn then closes the connection (and logs it)."""


class _Server(uvicorn.Server):
    """uvicorn that leaves the process's signal handlers alone (Ctrl-C still stops pytest)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _client_stays(receive: Receive, seconds: float) -> bool:
    """Waits `seconds`; False as soon as the client disconnects meanwhile."""
    try:
        async with asyncio.timeout(seconds):
            while (await receive())["type"] != "http.disconnect":
                pass
    except TimeoutError:
        return True
    return False


# ---------------------------------------------------------------------------------------------
# The server


class Original:
    """The original deployment serving `data` on http://127.0.0.1:<port> (see the module's
    docstring). `async with Original(data) as original:` then `original.url`.

    Faults:
    - `forbidden`: every authenticated /api/ request answers 403.
    - `flaky`: the first request for each distinct /api/ path+query (whatever it is: a list, an
      item, a 301, a 404) answers 500 with Django's HTML error page, the next ones normally; the
      first GET of each /media/ path sends its headers (the full content-length) and half the
      bytes, then the connection is closed (the client sees an incomplete body; uvicorn logs an
      "Exception in ASGI application" with ConnectionCut). A client that retries succeeds.
    - `slow_seconds`: every /media/ response waits that long before its headers (a client that
      leaves meanwhile is not counted in `downloads`).
    """

    def __init__(
        self,
        data: OriginalData,
        *,
        token: str = "original-token",
        page_size: int = 10,
        media_origin: str | None = None,
        collections: bool = True,
        forbidden: bool = False,
        flaky: bool = False,
        slow_seconds: float = 0.0,
    ) -> None:
        self.data = data
        self.token = token
        self.page_size = page_size
        self.collections = collections
        self.forbidden = forbidden
        self.flaky = flaky
        self.slow_seconds = slow_seconds
        self.requests: list[tuple[str, str]] = []  # (method, decoded path + "?" + query)
        self.downloads: Counter[str] = Counter()  # storage path -> times its bytes were sent
        self._media_origin = media_origin
        self._failed_once: set[str] = set()
        self._cut_once: set[str] = set()
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._url: str | None = None
        self._refusing: socket.socket | None = None

    # -- lifecycle

    @property
    def url(self) -> str:
        """http://127.0.0.1:<port>, once started."""
        if self._url is None:
            raise RuntimeError("the original is not started: use `async with Original(...)`")
        return self._url

    @property
    def media_origin(self) -> str:
        """The origin written in each file's `f`."""
        if self._media_origin == "self":
            return self.url
        if self._media_origin is not None:
            return self._media_origin.rstrip("/")
        assert self._refusing is not None, "not started"
        return f"http://localhost:{self._refusing.getsockname()[1]}"

    async def __aenter__(self) -> "Original":
        # A port bound and never listened on: connections to it are refused, and no one else
        # can take it while the server runs.
        self._refusing = socket.socket()
        self._refusing.bind(("127.0.0.1", 0))
        config = uvicorn.Config(
            self._app,
            host="127.0.0.1",
            port=0,
            interface="asgi3",
            lifespan="off",
            proxy_headers=False,  # Django trusts no X-Forwarded-* header by default
            log_config=None,  # no dictConfig of the process's logging: records go to the root
            log_level="warning",
            timeout_graceful_shutdown=2,
        )
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()  # the startup's error
                raise RuntimeError("the original's server stopped before starting")
            await asyncio.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self._url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
        if self._refusing is not None:
            self._refusing.close()

    # -- ASGI

    async def _app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        query = scope["query_string"].decode("latin-1")
        target = scope["path"] + (f"?{query}" if query else "")
        self.requests.append((request.method, target))
        if scope["path"].startswith("/media/"):
            await self._media(request, receive, send)
            return
        response = self._api(request, target)
        await response(scope, receive, send)

    def _api(self, request: Request, target: str) -> Response:
        """Django's order: the flaky fault, URL resolution (APPEND_SLASH), then DRF's
        authentication and permission, then the method and the view."""
        path = request.scope["path"]
        if self.flaky and path.startswith("/api/") and target not in self._failed_once:
            self._failed_once.add(target)
            return Response(SERVER_ERROR_PAGE, 500, media_type="text/html")
        route, ids = self._resolve(path)
        if route is None:
            if self._resolve(path + "/")[0] is not None:
                return self._append_slash(request)
            return _detail(404, NOT_FOUND)
        refused = self._refusal(request.headers.get("authorization"))
        if refused is not None:
            return refused
        if request.method not in ("GET", "HEAD"):
            return _detail(405, f'Method "{request.method}" not allowed.')
        body = self._view(route, request, ids)
        return _detail(404, NOT_FOUND) if body is None else JSONResponse(body)

    def _resolve(self, path: str) -> tuple[_Route | None, Ids]:
        for route in ROUTES:
            if route.optional and not self.collections:
                continue
            if (ids := route.match(path)) is not None:
                return route, ids
        return None, {}

    @staticmethod
    def _append_slash(request: Request) -> Response:
        """Django's CommonMiddleware: 301 to the path with its slash, the query kept (relative
        Location, as Django writes it)."""
        location = request.scope["raw_path"].decode("latin-1") + "/"
        if query := request.url.query:
            location += f"?{query}"
        return Response(status_code=301, headers={"Location": location}, media_type="text/html")

    def _refusal(self, authorization: str | None) -> Response | None:
        """DRF's TokenAuthentication with IsAuthenticated, then the permission (`forbidden`)."""
        parts = (authorization or "").split()
        if not parts or parts[0].lower() != "token":
            failure: str | None = "Authentication credentials were not provided."
        elif len(parts) == 1:
            failure = "Invalid token header. No credentials provided."
        elif len(parts) > 2:
            failure = "Invalid token header. Token string should not contain spaces."
        else:
            failure = None if parts[1] == self.token else "Invalid token."
        if failure is not None:
            return _detail(401, failure, {"WWW-Authenticate": "Token"})
        if self.forbidden:
            return _detail(403, "You do not have permission to perform this action.")
        return None

    def _view(self, route: _Route, request: Request, ids: Ids) -> Json | None:
        """The route's row shaped, or its rows paged; None when not found."""
        origin = f"{request.url.scheme}://{request.url.netloc}"
        shapes = _Shapes(self.data, self.media_origin, origin)
        found = route.find(self.data, ids)
        if found is None:
            return None
        if not route.collection:
            return route.shape(shapes, found)
        return paginated(request, found, self.page_size, lambda row: route.shape(shapes, row))

    async def _media(self, request: Request, receive: Receive, send: Send) -> None:
        """A file's bytes by its storage path (thumbnails are not kept: 404)."""
        path = request.scope["path"].removeprefix("/media/")
        media = self.data.media_by_path(path)
        if media is None or request.method not in ("GET", "HEAD"):
            await Response("Not Found", 404, media_type="text/html")(request.scope, receive, send)
            return
        if self.slow_seconds and not await _client_stays(receive, self.slow_seconds):
            return
        content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", content_type.encode()),
                    (b"content-length", str(len(media.content)).encode()),
                ],
            }
        )
        if request.method == "HEAD":
            await send({"type": "http.response.body", "body": b""})
            return
        cut = self.flaky and path not in self._cut_once
        self._cut_once.add(path)
        self.downloads[path] += 1
        await _send_body(send, media.content, cut=cut)


async def _send_body(send: Send, content: bytes, *, cut: bool) -> None:
    """`content` in chunks; with `cut`, only its first half, then the connection is broken."""
    end = len(content) // 2 if cut else len(content)
    for start in range(0, end, CHUNK):
        piece = content[start : min(start + CHUNK, end)]
        await send({"type": "http.response.body", "body": piece, "more_body": True})
    if cut:
        raise ConnectionCut("flaky: the connection is cut mid-body on purpose")
    await send({"type": "http.response.body", "body": b""})


__all__ = [
    "Original",
    "OriginalData",
    "OriginalEmployer",
    "OriginalLink",
    "OriginalMedia",
    "OriginalMeta",
    "OriginalPortfolio",
    "OriginalTag",
]
