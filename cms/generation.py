"""A token in the shared cache, replaced on every change that invalidates a cache.

A stored entry is served only in the generation it was built in, so one write drops
every entry at once without knowing which keys exist. Used by the response cache and
the feed cache; every web and worker process reads the same token.
"""

import uuid

from django.core.cache import cache


class Generation:
    def __init__(self, key: str) -> None:
        self.key = key

    def current(self) -> str:
        """The current token, created on first use; "" when the cache is unreachable."""
        value = cache.get(self.key)
        if value:
            return value
        cache.add(self.key, uuid.uuid4().hex, timeout=None)
        return cache.get(self.key) or ""

    def replace(self) -> None:
        cache.set(self.key, uuid.uuid4().hex, timeout=None)
