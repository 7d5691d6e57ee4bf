"""Text folding shared by every normaliser: case, accents and punctuation, plus the public `text`."""

import re
import unicodedata
from functools import lru_cache

# Per-function cache size: results are cached per distinct input over up to a million records.
_CACHE_SIZE = 2**18

# Letters that NFKD leaves whole (casefold has already turned "ß" into "ss").
_LETTERS = str.maketrans({"æ": "ae", "ø": "o", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ħ": "h", "ı": "i"})
_NON_ALNUM = re.compile(r"[\W_]+")


def _fold(value: str) -> str:
    """Casefold and strip accents, keeping punctuation: "Ærø-Straße" -> "aero-strasse"."""
    if value.isascii():
        return value.casefold()
    decomposed = unicodedata.normalize("NFKD", value).casefold().translate(_LETTERS)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@lru_cache(maxsize=_CACHE_SIZE)
def _text(value: str) -> str:
    return _NON_ALNUM.sub(" ", _fold(value)).strip()


def text(value: str | None) -> str:
    """Casefolded, accent-free words separated by single spaces: "  Café-Crème!" -> "cafe creme"."""
    return _text(value) if isinstance(value, str) else ""

