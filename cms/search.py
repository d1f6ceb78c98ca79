"""What reaches the search backend from readers and partners: a bounded list of words.

SQLite's full-text engine (FTS5), the embedded default, answers a query holding quotes
or other punctuation with a syntax error, a 500 for the reader; PostgreSQL ignores
most of it. The words are all any of our searches need, on both databases.

The search backend also builds one nested expression per word and compiles it
recursively: about 450 words exhausted Python's recursion limit (a RecursionError, a
500 and half a megabyte of traceback per request). So the words are bounded too:
``MAX_WORDS`` of at most ``MAX_WORD_LENGTH`` characters, a tenth of that depth. The site
search searches the first words and says so; the API refuses more with a 400.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NOT_A_WORD = re.compile(r"[^\w\s]+")

#: Words searched at most; real queries have a handful, the backend fails near 450.
MAX_WORDS = 32
#: Characters per word at most; the longest English words in medicine are under 50.
MAX_WORD_LENGTH = 64


@dataclass(frozen=True)
class SearchTerms:
    """The words to search, and whether the text held more than is searched."""

    words: tuple[str, ...]
    too_many_words: bool = False
    word_too_long: bool = False

    @property
    def truncated(self) -> bool:
        return self.too_many_words or self.word_too_long

    def __str__(self) -> str:
        return " ".join(self.words)


def parse_search(text: str) -> SearchTerms:
    """The first ``MAX_WORDS`` words of ``text``, each cut to ``MAX_WORD_LENGTH``.

    Linear in the length of ``text``, whatever it holds.
    """
    words = _NOT_A_WORD.sub(" ", text).split()
    kept = tuple(word[:MAX_WORD_LENGTH] for word in words[:MAX_WORDS])
    return SearchTerms(
        words=kept,
        too_many_words=len(words) > MAX_WORDS,
        word_too_long=any(len(word) > MAX_WORD_LENGTH for word in words[:MAX_WORDS]),
    )


def search_terms(text: str) -> str:
    """The bounded words of ``text``, separated by single spaces ("" when there are none)."""
    return str(parse_search(text))
