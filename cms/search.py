"""What reaches the search backend from readers and partners: a bounded list of words.

SQLite's full-text engine (FTS5), the embedded default, answers a query holding quotes
or other punctuation with a syntax error, a 500 for the reader; PostgreSQL ignores
most of it. The words are all any of our searches need, on both databases.

The search backend also builds one nested expression per word and compiles it
recursively: about 450 words exhausted Python's recursion limit (a RecursionError, a
500 and half a megabyte of traceback per request). So the words are bounded too:
``MAX_WORDS`` of at most ``MAX_WORD_LENGTH`` characters, a tenth of that depth. The site
search searches the first words and says so; the API refuses more with a 400.

Readers type the beginning of a word ("chemo"); full-text search matches whole words
(and their stems) only. When it finds nothing, the site search asks the backend's
``autocomplete`` (word-beginning matches on the titles: FTS5 prefix queries on SQLite,
``to_tsquery(… :*)`` on PostgreSQL), and when that finds nothing too, offers "did you
mean" from the words of public titles and tags (``did_you_mean``).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from taggit.models import Tag

from cms import visibility
from cms.models import BlogPostPage

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


#: Titles and tags read for "did you mean" (the newest pages first): enough for a
#: department's vocabulary, bounded for a site of 100,000 posts.
SUGGESTION_SOURCE_LIMIT = 2000
#: How alike a word must be to an indexed one to be offered (difflib's ratio, 0 to 1).
SUGGESTION_CUTOFF = 0.75
#: Words shorter than this are neither corrected nor offered ("of", "and").
SUGGESTION_MIN_LENGTH = 3
_WORD = re.compile(r"\w+")


def public_vocabulary() -> set[str]:
    """Lower-case words of public page titles and of the tags of public posts.

    Read through the one visibility rule, so a suggestion never names a word that only a
    hidden page holds; read when asked (a search that found nothing), never cached.
    """
    public = visibility.public_pages()
    titles = public.order_by("-last_published_at").values_list("title", flat=True)
    posts = visibility.public_pages(BlogPostPage.objects.all()).values("pk")
    tags = (
        Tag.objects.filter(cms_blogposttag_items__content_object__in=posts)
        .values_list("name", flat=True)
        .distinct()
    )
    words: set[str] = set()
    for text in [*titles[:SUGGESTION_SOURCE_LIMIT], *tags[:SUGGESTION_SOURCE_LIMIT]]:
        words.update(
            word.lower() for word in _WORD.findall(text) if len(word) >= SUGGESTION_MIN_LENGTH
        )
    return words


def did_you_mean(terms: SearchTerms, vocabulary: set[str] | None = None) -> str:
    """The query with each unknown word replaced by the nearest indexed word, or "".

    "" when no word has a near match, so the page offers nothing rather than the same query.
    """
    if not terms.words:
        return ""
    vocabulary = public_vocabulary() if vocabulary is None else vocabulary
    ordered = sorted(vocabulary)
    changed = False
    suggested = []
    for word in terms.words:
        lower = word.lower()
        if len(lower) < SUGGESTION_MIN_LENGTH or lower in vocabulary:
            suggested.append(word)
            continue
        match = difflib.get_close_matches(lower, ordered, n=1, cutoff=SUGGESTION_CUTOFF)
        if match:
            suggested.append(match[0])
            changed = True
        else:
            suggested.append(word)
    return " ".join(suggested) if changed else ""
