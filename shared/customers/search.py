"""Folding text for search (rule 4): "ode" finds "Ødegård", "hel" finds "Hélène"."""

import unicodedata

# Letters Unicode does not decompose into a base letter and an accent.
_SPECIAL = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "đ": "d", "ð": "d", "ł": "l", "þ": "th"}
)


def fold(text: str) -> str:
    """Lower case, accents removed, whitespace collapsed."""
    lowered = text.casefold().translate(_SPECIAL)
    decomposed = unicodedata.normalize("NFKD", lowered)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.split())


def search_name(first_name: str, last_name: str) -> str:
    return fold(f"{first_name} {last_name}")
