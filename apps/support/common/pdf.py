"""Helpers of the PDFs the park prints with fpdf2's built-in fonts (invoices, receipts)."""

# Dashes, curly quotes, the ellipsis and the colón sign, written with Latin-1 characters.
LOOK_ALIKES = str.maketrans(
    {
        "\u2014": "-",
        "\u2013": "-",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2026": "...",
        "\u20a1": "CRC ",
    }
)


def latin1(text: str) -> str:
    """``text`` as fpdf2's built-in fonts can write it (Latin-1): Spanish accents print,
    a few typographic characters become their look-alikes, anything else "?"."""
    return text.translate(LOOK_ALIKES).encode("latin-1", errors="replace").decode("latin-1")
