"""``GET /api/changes/``: the changes feed (see ``changes`` for how it stays gap-free)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from cms.response_cache import mark_public
from publishing.webhooks import changes

QUERY_PARAMS = ("since", "limit", "type", "tag")


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"message": str(message), "status": status}, status=status)


@require_safe
def changes_view(request: HttpRequest) -> JsonResponse:
    """One page of changes; shared and revalidated by ETag like the pages API."""
    try:
        query = changes.parse(request.GET)
        body = changes.read(query)
    except changes.BadRequest as exc:
        return _error(400, str(exc))
    except changes.CursorExpired:
        message = _(
            "This cursor is older than the %(days)d days of changes kept. Start again "
            "without since: the snapshot lists every public page, then resume from its next."
        ) % {"days": settings.CHANGES_FEED_RETENTION_DAYS}
        return _error(410, message)
    # Every item passed the one visibility rule: the same answer for every caller.
    return mark_public(JsonResponse(body), query_params=QUERY_PARAMS)
