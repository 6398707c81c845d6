"""Text helpers shared by every module."""

import unicodedata


def search_key(*texts: str) -> str:
    """Lower-case text without accents: "Tiburón" and "tiburon" meet in the middle."""
    joined = " ".join(text for text in texts if text)
    decomposed = unicodedata.normalize("NFKD", joined)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).lower()
