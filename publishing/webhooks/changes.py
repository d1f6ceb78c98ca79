"""The changes feed: what changed on the public site since a partner last looked.

One history: the webhook outbox's ``WebhookEvent`` rows, written in the publishing
transaction for every public change (whether or not a partner is subscribed). A feed
item and the push of one change carry the same id (the ``webhook-id``), so a partner
may mix pushes and catch-up and drop duplicates.

Why ``seq`` and not the id: ids are handed out when a row is inserted, but rows become
visible when their transaction commits. A slow publish (id 7) committing after a fast one
(id 8) would slip behind a cursor already handed out at 8. So every event gets its
``seq`` *after* commit, by ``stamp()``, which holds a lock (PostgreSQL: an advisory
transaction lock; SQLite: the write lock every transaction takes up front) and numbers
the committed, unstamped rows ``max(seq) + 1, + 2, ...``. Each stamp run commits before
the next starts, so a reader that sees ``seq = n`` has every ``seq <= n`` already, and
every later stamp is above it: cursors are over ``seq``, only stamped rows are served,
and ``seq`` is dense (1, 2, 3, ... with no holes). Pruning records the last ``seq`` it
dropped (``ChangesHorizon``): a cursor before it answers 410.

``stamp()`` runs in the publish pipeline's notify step (``publishing.pipeline.steps``),
after our caches are invalidated and the CDN is purged, and before every read for rows
that committed a while ago but whose process died before that step
(``CHANGES_FEED_STAMP_GRACE_SECONDS``: until then a row is the committing process's to
stamp). While any row waits for its ``seq``, answers are not stored (``in_flight``).
"""

from __future__ import annotations

import base64
import binascii
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.models import Page

from cms import visibility
from cms.response_cache import invalidate_responses
from publishing.models import ChangesHorizon, WebhookEvent

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
#: Any constant; what matters is that every stamper takes the same one.
ADVISORY_LOCK_KEY = 0x63686E67  # "chng"
SNAPSHOT, DELTA = "s", "d"


class BadRequest(ValueError):
    """A parameter the feed cannot read: 400, with this message."""


class CursorExpired(Exception):
    """A cursor from before the oldest event kept: 410, start again without ``since``."""


# --- writing --------------------------------------------------------------------------


def tags_column(tags: list[str]) -> str:
    """Tags as stored on an event: ``|a|b|``, lower-cased, so ``|tag|`` finds one."""
    cleaned = sorted({tag.strip().lower().replace("|", " ") for tag in tags if tag.strip()})
    column = "|" + "|".join(cleaned) + "|" if cleaned else ""
    return column if len(column) <= 1000 else column[:999].rsplit("|", 1)[0] + "|"


def in_flight() -> bool:
    """Whether committed events wait for their ``seq`` (a change between its commit and
    the pipeline's notify step). An answer read meanwhile may lack them: not stored."""
    return WebhookEvent.objects.filter(seq__isnull=True).exists()


def stamp(settled_before: datetime | None = None) -> int:
    """Give committed, unstamped events their ``seq`` in commit order; how many were stamped.

    ``settled_before``: only rows written before this instant (a reader's fallback, for
    a process that died before its notify step; stored answers are then invalidated).
    None: every committed row (the pipeline's notify step, which invalidated our caches
    first, while no answer read with these rows unstamped could be stored).
    """
    unstamped = WebhookEvent.objects.filter(seq__isnull=True)
    if settled_before is not None:
        unstamped = unstamped.filter(occurred_at__lt=settled_before)
    if not unstamped.exists():  # the common case: a plain read, no lock taken
        return 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
        # SQLite: ``transaction_mode = IMMEDIATE`` (settings) took the write lock already.
        ids = list(unstamped.order_by("id").values_list("id", flat=True)[:10_000])
        if not ids:
            return 0
        top = WebhookEvent.objects.aggregate(top=Max("seq"))["top"] or 0
        events = [WebhookEvent(id=pk, seq=top + n) for n, pk in enumerate(ids, start=1)]
        WebhookEvent.objects.bulk_update(events, ["seq"], batch_size=500)
    if settled_before is None:
        return len(ids)
    # An answer stored before these rows had a seq must not be served any more.
    try:
        invalidate_responses()
    except Exception:  # noqa: BLE001 - a cache outage must not fail a publish or a read
        logger.warning("could not invalidate stored responses", exc_info=True)
    return len(ids)


def prune(cutoff: datetime) -> int:
    """Drop stamped events older than ``cutoff`` whose deliveries are all gone, and move
    the horizon past them; the newest event always stays, so ``seq`` never restarts."""
    newest = high_water()
    old = WebhookEvent.objects.filter(
        occurred_at__lt=cutoff, deliveries__isnull=True, seq__isnull=False, seq__lt=newest
    )
    with transaction.atomic():
        through = old.aggregate(top=Max("seq"))["top"]
        if through is None:
            return 0
        horizon, _created = ChangesHorizon.objects.select_for_update().get_or_create(pk=1)
        if through > horizon.pruned_through:
            horizon.pruned_through = through
            horizon.save(update_fields=["pruned_through"])
        deleted, _detail = WebhookEvent.objects.filter(pk__in=old.values("pk")).delete()
    return deleted


# --- cursors --------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """Where a partner is: in a snapshot (``seq`` at its start, last page id), or past
    ``seq`` in the deltas. Encoded opaquely: partners store it and send it back."""

    kind: str
    seq: int
    after_id: int = 0

    def encode(self) -> str:
        raw = f"{self.kind}1.{self.seq}" + (f".{self.after_id}" if self.kind == SNAPSHOT else "")
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        problem = BadRequest(_("since is not a cursor this feed handed out"))
        if not token or len(token) > 64:
            raise problem
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise problem from None
        parts = raw.split(".")
        if parts[0] == f"{DELTA}1" and len(parts) == 2:
            kind, numbers = DELTA, parts[1:]
        elif parts[0] == f"{SNAPSHOT}1" and len(parts) == 3:
            kind, numbers = SNAPSHOT, parts[1:]
        else:
            raise problem
        if not all(n.isascii() and n.isdigit() and len(n) <= 18 for n in numbers):
            raise problem
        values = [int(n) for n in numbers]
        return cls(kind, values[0], values[1] if kind == SNAPSHOT else 0)


# --- reading --------------------------------------------------------------------------


@dataclass
class Query:
    since: Cursor | None
    limit: int
    page_type: str = ""
    tag: str = ""


def parse(params) -> Query:
    """Read ``since``, ``limit``, ``type`` and ``tag``; BadRequest says what is wrong."""
    unknown = set(params) - {"since", "limit", "type", "tag"}
    if unknown:
        raise BadRequest(
            _("unknown query parameter(s): %(names)s") % {"names": ", ".join(sorted(unknown))}
        )
    for name in params:
        if len(params.getlist(name)) > 1:
            raise BadRequest(_("%(name)s is given more than once") % {"name": name})
    since = params.get("since")
    cursor = Cursor.decode(since) if since is not None else None
    raw_limit = params.get("limit", str(DEFAULT_LIMIT))
    if not (raw_limit.isascii() and raw_limit.isdigit()) or not 1 <= int(raw_limit) <= MAX_LIMIT:
        raise BadRequest(_("limit must be a whole number from 1 to %(max)d") % {"max": MAX_LIMIT})
    page_type = params.get("type", "")
    if page_type:
        page_type = page_type_label(page_type)
    tag = params.get("tag", "").strip().lower()
    if "tag" in params and (not tag or "|" in tag or len(tag) > 100):
        raise BadRequest(_("tag must be a tag name (1 to 100 characters, no '|')"))
    return Query(cursor, int(raw_limit), page_type, tag)


def page_type_label(value: str) -> str:
    """``app_label.ModelName`` of a page type, as the pages API names it; else BadRequest."""
    problem = BadRequest(
        _("type must be a page type such as cms.BlogPostPage, not %(value)r") % {"value": value}
    )
    if value.count(".") != 1:
        raise problem
    try:
        model = apps.get_model(value)
    except (LookupError, ValueError):
        raise problem from None
    if not issubclass(model, Page) or model is Page:
        raise problem
    return model._meta.label


def high_water() -> int:
    """The last ``seq`` every reader can see; all below it are visible too (dense)."""
    return WebhookEvent.objects.aggregate(top=Max("seq"))["top"] or 0


def _check_horizon(seq: int, top: int) -> None:
    if seq > top:
        raise BadRequest(_("since is not a cursor this feed handed out"))
    horizon = ChangesHorizon.objects.filter(pk=1).values_list("pruned_through", flat=True)
    if seq < (horizon.first() or 0):
        raise CursorExpired


def _rfc3339(instant: datetime | None) -> str | None:
    return instant.isoformat().replace("+00:00", "Z") if instant else None


def read(query: Query, now: datetime | None = None) -> dict:
    """One page of the feed, as the JSON body the view answers with."""
    grace = timedelta(seconds=settings.CHANGES_FEED_STAMP_GRACE_SECONDS)
    stamp(settled_before=(now or timezone.now()) - grace)
    top = high_water()
    since = query.since
    if since is not None:
        _check_horizon(since.seq, top)
    if since is None or since.kind == SNAPSHOT:
        return _snapshot(query, since or Cursor(SNAPSHOT, top, 0))
    return _deltas(query, since.seq, top)


def _snapshot(query: Query, at: Cursor) -> dict:
    """Every page the public may see now, by id, in pages; then the deltas from ``at.seq``."""
    pages = visibility.public_pages().filter(pk__gt=at.after_id)
    if query.page_type:
        pages = pages.exact_type(apps.get_model(query.page_type))
    if query.tag:
        pages = pages.filter(pk__in=_tagged_page_ids(query.tag))
    rows = list(pages.order_by("pk").specific()[: query.limit + 1])
    has_more = len(rows) > query.limit
    rows = rows[: query.limit]
    items = [
        {
            "id": None,
            "cursor": Cursor(SNAPSHOT, at.seq, page.pk).encode(),
            "event": WebhookEvent.Type.PUBLISHED.value,
            "at": _rfc3339(page.last_published_at),
            "page": {
                "id": page.pk,
                "type": page._meta.label,
                "url": page.full_url or "",
                "title": page.title,
            },
        }
        for page in rows
    ]
    following = Cursor(SNAPSHOT, at.seq, rows[-1].pk) if has_more else Cursor(DELTA, at.seq)
    return {"items": items, "next": following.encode(), "has_more": has_more}


def _tagged_page_ids(tag: str) -> list[int]:
    ids: list[int] = []
    for model in apps.get_models():
        if issubclass(model, Page) and hasattr(model, "tags") and model is not Page:
            ids += model.objects.filter(tags__name__iexact=tag).values_list("pk", flat=True)
    return ids


def _deltas(query: Query, after: int, top: int) -> dict:
    """Events after ``after`` up to ``top``, oldest first. A ``published`` or ``updated``
    item is shown only while the page is public: if it is not any more, a later
    ``unpublished`` or ``deleted`` tells the partner (the rule, not the history, decides
    what leaves the system)."""
    events = WebhookEvent.objects.filter(seq__gt=after, seq__lte=top)
    if query.page_type:
        events = events.filter(page_type=query.page_type)
    if query.tag:
        events = events.filter(page_tags__contains=f"|{query.tag}|")
    rows = list(
        events.order_by("seq").only(
            "event_id",
            "type",
            "page_id",
            "page_title",
            "page_type",
            "page_url",
            "seq",
            "occurred_at",
        )[: query.limit + 1]
    )
    has_more = len(rows) > query.limit
    rows = rows[: query.limit]
    # Items that announce a page as public now (a lapse banner too): shown only if it is.
    live_types = {
        WebhookEvent.Type.PUBLISHED,
        WebhookEvent.Type.UPDATED,
        WebhookEvent.Type.REVIEW_LAPSED,
    }
    shown = set(
        visibility.public_pages()
        .filter(pk__in={row.page_id for row in rows if row.type in live_types})
        .values_list("pk", flat=True)
    )
    items = [
        {
            "id": row.webhook_id,
            "cursor": Cursor(DELTA, row.seq).encode(),
            "event": row.type,
            "at": _rfc3339(row.occurred_at),
            "page": {
                "id": row.page_id,
                "type": row.page_type,
                "url": row.page_url,
                "title": row.page_title,
            },
        }
        for row in rows
        if row.type not in live_types or row.page_id in shown
    ]
    # Past every row read, shown or not; at the end, past everything visible now.
    last = rows[-1].seq if has_more else top
    return {"items": items, "next": Cursor(DELTA, max(last, after)).encode(), "has_more": has_more}
