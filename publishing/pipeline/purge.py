"""Purging the front-end cache (CDN) through ``wagtail.contrib.frontend_cache``.

Backends come from ``settings.WAGTAILFRONTENDCACHE`` (built from the environment:
``FRONTEND_CACHE_PURGE_URLS``, Cloudflare, CloudFront). Wagtail's own task routes each
URL to the backends for its host; we call it synchronously (``.call``) so a failure is
an exception the pipeline can retry, not a log line. Wagtail's ``HTTPBackend`` only
logs a failed ``PURGE``, and waits without a timeout, so HTTP endpoints use
:class:`HTTPPurgeBackend`, which raises and gives up after a few seconds.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import requests
from wagtail.contrib.frontend_cache.backends.base import BaseBackend
from wagtail.contrib.frontend_cache.tasks import purge_urls_from_cache_task
from wagtail.contrib.frontend_cache.utils import get_backends

#: (connect, read) seconds for one PURGE: a publish waits for it.
PURGE_TIMEOUT = (2, 5)


class PurgeFailed(Exception):
    """The CDN did not confirm a purge; notifications must wait."""


class HTTPPurgeBackend(BaseBackend):
    """``PURGE <path>`` with the page's ``Host`` to an HTTP cache such as Varnish."""

    def __init__(self, params: dict) -> None:
        super().__init__(params)
        location = urlsplit(params["LOCATION"])
        self.scheme, self.netloc = location.scheme, location.netloc

    def purge(self, url: str) -> None:
        parts = urlsplit(url)
        target = urlunsplit((self.scheme, self.netloc, parts.path or "/", parts.query, ""))
        try:
            response = requests.request(
                "PURGE", target, headers={"Host": parts.netloc}, timeout=PURGE_TIMEOUT
            )
        except requests.RequestException as exc:
            raise PurgeFailed(f"{self.netloc}: {exc}") from exc
        if response.status_code >= 300:
            raise PurgeFailed(f"{self.netloc} answered {response.status_code} for {parts.path}")


def configured() -> bool:
    """Whether any front-end cache is configured (no CDN: nothing to wait for)."""
    return bool(get_backends())


def purge(urls: list[str]) -> None:
    """Purge ``urls`` from every configured backend; raises :class:`PurgeFailed`."""
    if not urls:
        return
    try:
        purge_urls_from_cache_task.call(sorted(urls))
    except PurgeFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - Cloudflare/CloudFront clients raise their own
        raise PurgeFailed(str(exc)) from exc
