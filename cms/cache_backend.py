"""django-redis's client, with ``touch`` failing open like every other cache call.

The cache is django-redis with ``IGNORE_EXCEPTIONS`` (settings: a Redis outage reads as
misses and drops writes). In django-redis 7.0.0 each client method turns Redis's
connection and timeout errors into ``ConnectionInterrupted``, which the backend then
ignores, except ``DefaultClient.touch``: its error escapes, and page passwords and the
response cache's byte budget (both ``touch`` a counter) answered 500 while Redis was
down. Drop this class once django-redis converts the error itself.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django_redis.client import DefaultClient
from django_redis.client.default import _main_exceptions
from django_redis.exceptions import ConnectionInterrupted
from redis import Redis


class CacheClient(DefaultClient):
    def touch(
        self,
        key: Any,
        timeout: float | None = DEFAULT_TIMEOUT,
        version: int | None = None,
        client: Redis | None = None,
    ) -> bool:
        """``DefaultClient.touch``, its Redis errors reported as the other methods do."""
        if client is None:
            client = self.get_client(write=True)
        try:
            return super().touch(key, timeout=timeout, version=version, client=client)
        except _main_exceptions as exc:
            raise ConnectionInterrupted(connection=client) from exc
