from app.main import create_app
from app.settings import Settings
from tests.common.notes import router as notes_router
from tests.conftest import make_client, started


async def test_healthz_answers_without_authentication(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_a_reachable_database(client):
    response = await client.get("/readyz/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_an_unreachable_database_with_503(settings):
    unreachable = Settings(
        _env_file=None,
        environment="test",
        database_url="postgresql+asyncpg://nobody@127.0.0.1:9/nowhere",
        database_connect_timeout=1,
    )
    async for app in started(create_app(unreachable)):
        async with make_client(app) as http:
            ready = await http.get("/readyz")
            alive = await http.get("/healthz")
    assert ready.status_code == 503
    assert ready.json() == {"detail": "Service temporarily unavailable, try again later."}
    assert alive.status_code == 200


async def test_any_database_route_answers_503_quickly_when_the_database_is_down():
    unreachable = Settings(
        _env_file=None,
        environment="test",
        database_url="postgresql+asyncpg://nobody@127.0.0.1:9/nowhere",
        database_connect_timeout=1,
    )
    app = create_app(unreachable)
    app.include_router(notes_router)
    async for running in started(app):
        async with make_client(running) as http:
            listing = await http.get("/test/notes/")
            created = await http.post("/test/notes/", json={"title": "lost"})
    for response in (listing, created):
        assert response.status_code == 503
        assert response.json() == {"detail": "Service temporarily unavailable, try again later."}
