"""`portfolio-api seed --demo`: demo data a user can browse, created once and only once.

The command runs in this process against the test database, with the pictures drawn at a tenth
of their size (thumbnailing full-size ones is what makes the real command take seconds). What it
commits is deleted when the module ends.
"""

import asyncio
import io
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

import app.demo.seed as demo_seed
from app.cli import main
from app.demo.data import EMPLOYERS, PORTFOLIOS, TAGS
from app.models import (
    Base,
    Employer,
    Event,
    HistoryEntry,
    MediaFile,
    MediaThumbnail,
    Portfolio,
    PortfolioLink,
    PortfolioMeta,
    Tag,
    portfolio_images,
    portfolio_tags,
)
from app.settings import get_settings
from tests.shapes import assert_same_shape, seed

SCALE = 0.1
TOTAL_STEPS = len(EMPLOYERS) + len(TAGS) + len(PORTFOLIOS)


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


@dataclass
class Seeded:
    first: Run
    media_root: Path
    seed_again: Callable[[], Run]


def stored_files(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


SEEDED_TABLES = {
    model.__table__
    for model in (
        *(Employer, Tag, Portfolio, PortfolioLink, PortfolioMeta, MediaFile, MediaThumbnail),
        *(Event, HistoryEntry),
    )
} | {portfolio_images, portfolio_tags}


async def delete_demo_data(database_url: str) -> None:
    engine = create_async_engine(database_url, poolclass=NullPool)
    async with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            if table in SEEDED_TABLES:
                await connection.execute(delete(table))
    await engine.dispose()


@pytest.fixture(scope="module")
def seeded(settings, tmp_path_factory) -> Iterator[Seeded]:
    """The command run once, as a user runs it (DATABASE_URL and MEDIA_ROOT from the env)."""
    media_root = tmp_path_factory.mktemp("demo-media")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", settings.database_url)
        patch.setenv("MEDIA_ROOT", str(media_root))
        patch.setattr(demo_seed, "IMAGE_SCALE", SCALE)
        get_settings.cache_clear()

        def seed_demo() -> Run:
            stdout, stderr = io.StringIO(), io.StringIO()
            with redirect_stdout(stdout), redirect_stderr(stderr):
                returncode = main(["seed", "--demo"])
            return Run(returncode, stdout.getvalue(), stderr.getvalue())

        try:
            yield Seeded(seed_demo(), media_root, seed_demo)
        finally:
            get_settings.cache_clear()
            asyncio.run(delete_demo_data(settings.database_url))


async def row_counts(app) -> dict[str, int]:
    async with app.state.engine.connect() as connection:
        return {
            table.name: (await connection.execute(select(func.count()).select_from(table))).scalar()
            for table in Base.metadata.sorted_tables
        }


def test_the_first_run_says_what_it_created(seeded):
    assert seeded.first.returncode == 0, seeded.first.stderr
    lines = seeded.first.stdout.splitlines()
    assert re.fullmatch(rf"employers: +{len(EMPLOYERS)} created, +0 already present", lines[0])
    assert re.fullmatch(rf"tags: +{len(TAGS)} created, +0 already present", lines[1])
    assert re.fullmatch(rf"portfolios: +{len(PORTFOLIOS)} created, +0 already present", lines[2])
    assert re.match(r"with them: \d+ media files \(\d+ thumbnails\) under ", lines[3])
    # Not a terminal: the progress bar is plain lines on stderr, the last one complete.
    progress = seeded.first.stderr.splitlines()
    assert "\r" not in seeded.first.stderr
    assert all(re.fullmatch(r"seeding demo data \[[#.]{20}\] \d+/\d+", line) for line in progress)
    assert progress[-1] == f"seeding demo data [{'#' * 20}] {TOTAL_STEPS}/{TOTAL_STEPS}"


async def test_portfolios_come_with_employer_tags_images_links_and_meta(seeded, admin_client):
    response = await admin_client.get("/api/portfolios/", params={"limit": 100})
    assert response.status_code == 200
    found = {portfolio["title"]: portfolio for portfolio in response.json()["results"]}
    assert set(found) == {portfolio.title for portfolio in PORTFOLIOS}
    for demo in PORTFOLIOS:
        portfolio = found[demo.title]  # Persian titles round-trip unchanged
        assert_same_shape(portfolio, seed("update_portfolio"))
        assert (portfolio["excerpt"], portfolio["description"]) == (demo.excerpt, demo.description)
        assert portfolio["employer_data"]["name"] == demo.employer
        assert [tag["name"] for tag in portfolio["tags_data"]] == list(demo.tags)
        assert portfolio["image_data"]["type"] == "image"
        assert len(portfolio["images_data"]) == demo.gallery_size
        for image in [portfolio["image_data"], *portfolio["images_data"]]:
            assert [thumbnail["size"] for thumbnail in image["thumbnails"]] == [64, 128, 512, 1080]
        assert [link["name"] for link in portfolio["links_data"]] == [
            link.name for link in demo.links
        ]
        meta = {item["key"]: item for item in portfolio["meta"]}
        assert {key: meta[key]["value_text"] for key, _ in demo.meta} == dict(demo.meta)
        assert meta["og:image"]["value_file"]["id"] == portfolio["image_data"]["id"]
    assert not found["Alborz Industrial Group Intranet"]["is_active"]
    assert found["سامانه نوبت‌دهی آنلاین کلینیک مهر"]["slug"] == "سامانه-نوبتدهی-آنلاین-کلینیک-مهر"


async def test_persian_text_is_stored_intact(seeded, app):
    async with app.state.engine.connect() as connection:
        titles = set((await connection.execute(select(Portfolio.title))).scalars())
        employers = set((await connection.execute(select(Employer.name))).scalars())
        links = set((await connection.execute(select(PortfolioLink.name))).scalars())
        values = set((await connection.execute(select(PortfolioMeta.value_text))).scalars())
    assert "سامانه نوبت\u200cدهی آنلاین کلینیک مهر" in titles  # the zero-width non-joiner kept
    assert "مؤسسه آموزشی دانا" in employers
    assert "وب\u200cسایت فروشگاه" in links
    assert "۸٬۰۰۰ دانش\u200cآموز" in values  # Persian digits and separator, not normalised


async def test_images_have_four_thumbnails_and_their_files_on_disk(seeded, app):
    async with app.state.engine.connect() as connection:
        files = (await connection.execute(select(MediaFile))).all()
        thumbnails = (await connection.execute(select(MediaThumbnail))).all()
    assert {file.mime_type for file in files} == {"image/jpeg", "image/png"}
    assert any(file.mode == "RGBA" for file in files)  # the logos are transparent
    boxes: dict[int, list[int]] = {}
    for thumbnail in thumbnails:
        boxes.setdefault(thumbnail.file_id, []).append(thumbnail.box)
    assert {file.id: sorted(boxes[file.id]) for file in files} == {
        file.id: [64, 128, 512, 1080] for file in files
    }
    paths = {file.path for file in files} | {thumbnail.path for thumbnail in thumbnails}
    assert stored_files(seeded.media_root) == paths  # every file there, nothing else


async def test_a_second_run_creates_nothing(seeded, app):
    rows, files = await row_counts(app), stored_files(seeded.media_root)
    again = await asyncio.to_thread(seeded.seed_again)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == [
        f"employers:   0 created, {len(EMPLOYERS):>2} already present",
        f"tags:        0 created, {len(TAGS):>2} already present",
        f"portfolios:  0 created, {len(PORTFOLIOS):>2} already present",
        "nothing new: the demo data was already there",
    ]
    assert await row_counts(app) == rows
    assert stored_files(seeded.media_root) == files


async def test_a_failing_portfolio_leaves_no_row_and_no_file(seeded, app, monkeypatch):
    """Its images are stored before the failure; they go with the rolled-back transaction."""
    title = PORTFOLIOS[0].title
    async with app.state.engine.begin() as connection:
        await connection.execute(delete(Portfolio).where(Portfolio.title == title))
    rows, files = await row_counts(app), stored_files(seeded.media_root)

    def broken_link(**fields):
        raise RuntimeError("the disk caught fire")

    with monkeypatch.context() as patch:
        patch.setattr(demo_seed, "LinkIn", broken_link)
        with pytest.raises(RuntimeError, match="caught fire"):
            await asyncio.to_thread(seeded.seed_again)
    assert await row_counts(app) == rows
    assert stored_files(seeded.media_root) == files

    repaired = await asyncio.to_thread(seeded.seed_again)  # and the next run completes the set
    assert f"portfolios:  1 created, {len(PORTFOLIOS) - 1:>2} already present" in repaired.stdout
    assert (await row_counts(app))["portfolio"] == rows["portfolio"] + 1


def test_seed_without_demo_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as raised:
        main(["seed"])
    assert raised.value.code == 2
    assert "--demo" in capsys.readouterr().err


def test_seed_refuses_to_run_in_production(monkeypatch, capsys):
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("CORS_ORIGINS", "https://site.example")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://api.site.example")
    get_settings.cache_clear()
    try:
        assert main(["seed", "--demo"]) == 2
    finally:
        get_settings.cache_clear()
    assert "not for production" in capsys.readouterr().err


async def test_every_object_seeded_has_its_event_and_history_entry_via_the_cli(seeded, app):
    async with app.state.engine.connect() as connection:
        events = (await connection.execute(select(Event.body))).scalars().all()
        entries = (
            await connection.execute(
                select(HistoryEntry.kind, HistoryEntry.via, HistoryEntry.actor_id)
            )
        ).all()
    bodies = [json.loads(body) for body in events]

    def created(kind, label):  # other tests here seed again what they removed: a set
        return {body["data"][label] for body in bodies if body["type"] == f"{kind}.created"}

    assert created("portfolio", "title") == {portfolio.title for portfolio in PORTFOLIOS}
    assert created("tag", "name") == set(TAGS)
    assert created("employer", "name") == {employer.name for employer in EMPLOYERS}
    assert {(body["actor"], body["via"]) for body in bodies} == {(None, "cli")}
    assert Counter(kind for kind, _via, _actor in entries) == Counter(
        body["type"].split(".")[0] for body in bodies
    )
    assert {(via, actor) for _kind, via, actor in entries} == {("cli", None)}
