"""Comparing a response with a seed's example: same names, types and nesting."""

import json
from pathlib import Path
from typing import Any

SEEDS = Path(__file__).parent / "seeds"
FILE_EXTRAS = {"mime_type", "alt", "created_at", "updated_at"}  # API.md adds to file objects
LINK_EXTRAS = {"order"}  # ... and to a link resource
IMAGE_EXTRAS = {"focal_point", "placeholder", "variants"}  # ... and to image objects


def seed(name: str) -> Any:
    return json.loads((SEEDS / f"{name}.json").read_text())


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    kinds = {bool: "bool", int: "int", float: "number", str: "str", list: "list", dict: "dict"}
    return kinds[type(value)]


def _allowed_extras(expected: dict[str, Any], link_resource: bool) -> set[str]:
    if "thumbnails" in expected:
        return FILE_EXTRAS | IMAGE_EXTRAS
    if "human_readable_size" in expected:
        return FILE_EXTRAS
    if link_resource and "url" in expected and "created_at" in expected:
        return LINK_EXTRAS
    return set()


def assert_same_shape(
    actual: Any, expected: Any, path: str = "$", *, link_resource: bool = False
) -> None:
    """Every field of `expected` is in `actual` with the same type, recursively, and `actual`
    has no other fields than API.md allows. A null or empty list in `expected` fixes only the
    name, not what the response holds there."""
    if expected is None or actual is None:
        return
    assert _kind(actual) == _kind(expected), f"{path}: {_kind(actual)} != {_kind(expected)}"
    if isinstance(expected, dict):
        missing = set(expected) - set(actual)
        unexpected = set(actual) - set(expected) - _allowed_extras(expected, link_resource)
        assert not missing, f"{path}: missing {sorted(missing)}"
        assert not unexpected, f"{path}: unexpected {sorted(unexpected)}"
        for key, value in expected.items():
            assert_same_shape(actual[key], value, f"{path}.{key}", link_resource=link_resource)
    elif isinstance(expected, list) and expected:
        for index, item in enumerate(actual):
            assert_same_shape(item, expected[0], f"{path}[{index}]", link_resource=link_resource)
