"""Names on disk: dated folders, safe Unicode stems, random suffixes, human sizes."""

import re
import secrets
import string
import unicodedata
from datetime import date
from pathlib import PurePosixPath

ROOT_FOLDER = "core_media"
MAX_STEM = 100
SUFFIX_ALPHABET = string.ascii_letters + string.digits
_UNSAFE = re.compile(r"[^\w.-]")


def display_name(filename: str | None) -> str:
    """The name shown for an upload: the client's file name without folders, extension or
    control characters (a NUL is refused by PostgreSQL); `.` and `..` name nothing."""
    printable = "".join(c for c in filename or "" if unicodedata.category(c) != "Cc")
    base = PurePosixPath(printable.replace("\\", "/")).name
    stem = base.rsplit(".", 1)[0] if "." in base.lstrip(".") else base
    stem = unicodedata.normalize("NFC", stem).strip()[:255]
    return stem if stem.strip(".") else "file"


def safe_stem(filename: str | None) -> str:
    """A stem safe in paths and URLs: letters (any script), digits, `_`, `-` and `.`."""
    stem = display_name(filename).replace(" ", "_")
    stem = _UNSAFE.sub("", stem).strip("._-")
    return stem[:MAX_STEM] or "file"


def client_extension(filename: str | None) -> str:
    base = PurePosixPath((filename or "").replace("\\", "/")).name
    return base.rsplit(".", 1)[1].lower() if "." in base.lstrip(".") else ""


def original_key(day: date, stem: str, extension: str) -> str:
    return f"{ROOT_FOLDER}/{day:%Y/%m/%d}/{stem}.{extension}"


def thumbnail_key(original: str, box: int) -> str:
    path = PurePosixPath(original)
    return f"{path.parent}/thumbnails/{path.stem}_thumbnail_{box}x{box}{path.suffix}"


def variant_key(original: str, box: int, extension: str) -> str:
    """Beside the thumbnails: `a/b/photo.jpg` -> `a/b/thumbnails/photo_variant_512x512.avif`."""
    path = PurePosixPath(original)
    return f"{path.parent}/thumbnails/{path.stem}_variant_{box}x{box}.{extension}"


def with_random_suffix(key: str) -> str:
    """`a/b/photo.jpg` -> `a/b/photo_ecH0zVV.jpg` (as Django names a taken file)."""
    path = PurePosixPath(key)
    suffix = "".join(secrets.choice(SUFFIX_ALPHABET) for _ in range(7))
    return str(path.with_name(f"{path.stem}_{suffix}{path.suffix}"))


def human_readable_size(size: int) -> str:
    """Divide by 1024 per unit, two decimals: "512.00 B", "5.00 KB", "2.50 MB"."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.2f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
