"""Search terms, quoting, literal wildcards and Persian/Arabic folding, on both backends."""

import pytest


async def found(notes, search):
    response = await notes.get("/test/notes/", params={"search": search, "limit": 100})
    assert response.status_code == 200, response.text
    return sorted(note["title"] for note in response.json()["results"])


async def add(notes, title, body=None):
    response = await notes.post("/test/notes/", json={"title": title, "body": body})
    assert response.status_code == 201
    return response.json()


async def test_every_term_must_match_some_field(notes):
    await add(notes, "github link", "source code")
    await add(notes, "gitlab link", "mirror")
    assert await found(notes, "link") == ["github link", "gitlab link"]
    assert await found(notes, "link source") == ["github link"]
    assert await found(notes, "link,mirror") == ["gitlab link"]
    assert await found(notes, "link nothing") == []


async def test_quoted_phrase_is_one_term(notes):
    await add(notes, "demo project link")
    await add(notes, "project demo link")
    assert await found(notes, '"demo project"') == ["demo project link"]
    assert await found(notes, "demo project") == ["demo project link", "project demo link"]


async def test_a_term_never_spans_two_fields(notes):
    await add(notes, "foo", "bar")
    assert await found(notes, "ob") == []
    assert await found(notes, "foo bar") == ["foo"]


async def test_search_is_case_insensitive_beyond_ascii(notes):
    await add(notes, "École Française")
    assert await found(notes, "école") == ["École Française"]
    assert await found(notes, "FRANÇAISE") == ["École Française"]


@pytest.mark.parametrize("term", ["100%", "a_b"])
async def test_wildcards_match_literally(notes, term):
    await add(notes, "100% done")
    await add(notes, "1000 done")
    await add(notes, "a_b")
    await add(notes, "axb")
    expected = {"100%": ["100% done"], "a_b": ["a_b"]}[term]
    assert await found(notes, term) == expected


async def test_numeric_term_matches_the_id_exactly(notes):
    note = await add(notes, "unrelated title")
    await add(notes, "another")
    assert "unrelated title" in await found(notes, str(note["id"]))


async def test_arabic_and_persian_letters_match_each_other(notes):
    await add(notes, "طراحي سايت", "كد")  # Arabic yeh and kaf
    await add(notes, "طراحی سایت", "کد")  # Persian yeh and keheh
    assert await found(notes, "طراحی") == ["طراحي سايت", "طراحی سایت"]
    assert await found(notes, "طراحي") == ["طراحي سايت", "طراحی سایت"]
    assert await found(notes, "کد") == ["طراحي سايت", "طراحی سایت"]


async def test_zero_width_non_joiner_is_ignored(notes):
    await add(notes, "می\u200cخواهم")
    assert await found(notes, "میخواهم") == ["می\u200cخواهم"]
    assert await found(notes, "می\u200cخواهم") == ["می\u200cخواهم"]


async def test_persian_arabic_and_latin_digits_match(notes):
    await add(notes, "پروژه ۱۴۰۳")
    await add(notes, "project 1403")
    await add(notes, "مشروع ١٤٠٣")
    expected = ["project 1403", "مشروع ١٤٠٣", "پروژه ۱۴۰۳"]
    assert await found(notes, "1403") == sorted(expected)
    assert await found(notes, "۱۴۰۳") == sorted(expected)


async def test_search_updates_when_the_text_changes(notes):
    note = await add(notes, "old words")
    await notes.patch(f"/test/notes/{note['id']}", json={"title": "new words"})
    assert await found(notes, "old") == []
    assert await found(notes, "new") == ["new words"]


async def test_blank_search_lists_everything(notes):
    await add(notes, "x")
    assert await found(notes, "  , ") == ["x"]


async def test_null_character_in_search_is_400(notes):
    response = await notes.get("/test/notes/", params={"search": "a\x00b"})
    assert response.status_code == 400
    assert response.json() == {"search": ["Null characters are not allowed."]}
