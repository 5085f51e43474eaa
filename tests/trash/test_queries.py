"""The trash costs the hot reads nothing: a trashed object has left the live tables, so listing
and retrieving portfolios run the same statements with the trash full as with it empty."""

import httpx

from tests.trash.conftest import World, body, build_world, image, post


async def statements_of(api: httpx.AsyncClient, counter, path: str, status: int = 200) -> list[str]:
    counter.statements.clear()
    response = await api.get(path)
    assert response.status_code == status, response.text
    return list(counter.statements)


async def test_hot_reads_run_the_same_statements_with_objects_in_the_trash(
    api: httpx.AsyncClient, world: World, count_statements
):
    # Another portfolio with references of its own, all of which go to the trash.
    doomed_image = await image(api, "doomed")
    doomed_tag = await post(api, "/api/tags/", name="doomed", image=doomed_image["id"])
    doomed_employer = await post(api, "/api/employers/", name="Doomed Inc.")
    doomed = await post(
        api,
        "/api/portfolios/",
        title="Doomed",
        image=doomed_image["id"],
        images=[doomed_image["id"]],
        tags=[doomed_tag["id"]],
        employer=doomed_employer["id"],
    )
    await post(api, f"/api/portfolios/{doomed['id']}/links/", name="Gone", url="https://x.example/")
    await post(api, f"/api/portfolios/{doomed['id']}/meta/", key="gone")
    paths = [
        "/api/portfolios/?limit=100",
        f"/api/portfolios/{world.id}",
        f"/api/portfolios/{world.id}/links/",
        f"/api/portfolios/{world.id}/meta/",
        "/api/tags/",
        "/api/employers/",
        "/api/media/",
    ]
    for path in paths:  # warm: anything done once per process is done
        await statements_of(api, count_statements, path)
    before = {path: await statements_of(api, count_statements, path) for path in paths}

    pid = world.id
    for path in (
        f"/api/tags/{doomed_tag['id']}",
        f"/api/employers/{doomed_employer['id']}",
        f"/api/media/{doomed_image['id']}",
        f"/api/portfolios/{doomed['id']}",
        # Of the world's portfolio, one of each (it keeps others of each).
        f"/api/tags/{world.tags[2]['id']}",
        f"/api/media/{world.gallery[2]['id']}",
        f"/api/portfolios/{pid}/links/{world.links[1]['id']}",
        f"/api/portfolios/{pid}/meta/{world.meta[1]['id']}",
    ):
        assert (await api.delete(path)).status_code == 204
    assert body(await api.get("/api/trash/"))["count"] == 8

    after = {path: await statements_of(api, count_statements, path) for path in paths}
    for path in paths:
        # The same statements (an `IN` list may hold fewer ids: the page has fewer objects).
        assert len(after[path]) == len(before[path]), path
        assert [s.split()[:6] for s in after[path]] == [s.split()[:6] for s in before[path]]
        assert not any("trash" in statement for statement in after[path]), path


async def test_a_trashed_portfolio_is_as_cheap_to_miss_as_one_that_never_was(
    api: httpx.AsyncClient, count_statements
):
    world = await build_world(api)
    missing = f"/api/portfolios/{world.id + 1000}"
    await statements_of(api, count_statements, missing, 404)
    never = await statements_of(api, count_statements, missing, 404)
    assert (await api.delete(f"/api/portfolios/{world.id}")).status_code == 204
    trashed = await statements_of(api, count_statements, f"/api/portfolios/{world.id}", 404)
    assert len(trashed) == len(never)
