"""Restores that put references back leave everything exactly as it was: no `updated_at` moves
on the objects that showed the restored one, and a reference between two trashed objects
survives their restores in either order (the one restored first hands the reference to the
other's kept rows). Both were wrong at first; the trash tests found them."""

import httpx
import pytest

from tests.trash.conftest import (
    INTERTWINED,
    World,
    assert_reads_equal,
    body,
    path_and_kind,
    read_all,
    while_trashed,
    without_updated_at,
)


@pytest.mark.parametrize("kind", ["media", "employer"])
async def test_a_restore_leaves_what_showed_the_object_exactly_as_it_was(
    api: httpx.AsyncClient, world: World, kind: str
):
    object_id = world.cover["id"] if kind == "media" else world.employer["id"]
    path = f"/api/media/{object_id}" if kind == "media" else f"/api/employers/{object_id}"
    before = await read_all(api, world.reads())
    assert (await api.delete(path)).status_code == 204
    assert_reads_equal(await read_all(api, world.reads()), while_trashed(before, kind, object_id))
    body(await api.post(f"/api/trash/{kind}/{object_id}/restore"))
    assert_reads_equal(await read_all(api, world.reads()), before)


@pytest.mark.parametrize(
    ("first", "second"), INTERTWINED, ids=[f"{one}-then-{two}" for one, two in INTERTWINED]
)
async def test_a_reference_between_two_trashed_objects_survives_restores_in_deletion_order(
    api: httpx.AsyncClient, world: World, first: str, second: str
):
    """Both ends of a reference deleted, then both restored: everything is back as it was."""
    before = await read_all(api, world.reads())
    deleted = [path_and_kind(world, name) for name in (first, second)]
    for path, _kind, _id in deleted:
        assert (await api.delete(path)).status_code == 204
    for _path, kind, object_id in deleted:
        body(await api.post(f"/api/trash/{kind}/{object_id}/restore"))
    assert_reads_equal(
        without_updated_at(await read_all(api, world.reads())), without_updated_at(before)
    )
