"""What reaches the search backend from readers and partners: words only.

SQLite's full-text engine (FTS5), the embedded default, answers a query holding quotes
or other punctuation with a syntax error, a 500 for the reader; PostgreSQL ignores
most of it. The words are all any of our searches need, on both databases.
"""

import re

_NOT_A_WORD = re.compile(r"[^\w\s]+")


def search_terms(text: str) -> str:
    """The words of ``text``, separated by single spaces ("" when there are none)."""
    return " ".join(_NOT_A_WORD.sub(" ", text).split())
