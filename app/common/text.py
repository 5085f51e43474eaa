"""Text normalisation shared by search columns and search terms."""

import unicodedata

_FOLDED = str.maketrans(
    {
        "\u064a": "\u06cc",  # Arabic yeh -> Persian yeh
        "\u0649": "\u06cc",  # Arabic alef maksura -> Persian yeh
        "\u0643": "\u06a9",  # Arabic kaf -> Persian keheh
        **{chr(0x0660 + digit): str(digit) for digit in range(10)},  # Arabic-Indic digits
        **{chr(0x06F0 + digit): str(digit) for digit in range(10)},  # Persian digits
        "\u200c": None,  # zero-width non-joiner
        "\u200b": None,  # zero-width space
        "\u200d": None,  # zero-width joiner
        "\ufeff": None,  # zero-width no-break space
    }
)


def normalize_for_search(value: str) -> str:
    """Fold case, Persian/Arabic letter and digit variants, and zero-width characters.

    Applied in Python to both the stored search column and each term, so matching is a plain
    substring test that behaves identically on SQLite and PostgreSQL.
    """
    return unicodedata.normalize("NFC", value).translate(_FOLDED).casefold()
