"""Every route answers with and without its trailing slash, directly, never by redirect."""


async def test_collection_answers_both_spellings_without_redirect(notes):
    await notes.post("/test/notes/", json={"title": "one"})
    with_slash = await notes.get("/test/notes/")
    without = await notes.get("/test/notes")
    assert with_slash.status_code == without.status_code == 200
    assert with_slash.json()["results"] == without.json()["results"]


async def test_create_without_trailing_slash_creates(notes):
    response = await notes.post("/test/notes", json={"title": "no slash"})
    assert response.status_code == 201
    assert response.json()["title"] == "no slash"


async def test_item_answers_both_spellings_for_every_method(notes):
    created = (await notes.post("/test/notes/", json={"title": "item"})).json()
    for path in (f"/test/notes/{created['id']}", f"/test/notes/{created['id']}/"):
        assert (await notes.get(path)).status_code == 200
        patched = await notes.patch(path, json={"rank": 3})
        assert patched.status_code == 200
        assert patched.json()["rank"] == 3


async def test_openapi_lists_one_canonical_path_per_operation(notes_app):
    paths = notes_app.openapi()["paths"]
    assert "/test/notes/" in paths
    assert "/test/notes" not in paths
    assert "/test/notes/{note_id}" in paths
    assert "/test/notes/{note_id}/" not in paths
