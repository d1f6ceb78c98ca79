"""The feed endpoints: cached bodies, conditional GET, WebSub discovery headers."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.views.decorators.http import require_safe

from cms.params import InvalidNumber, parse_int

from .cache import get_feed
from .feeds import FeedKey, FeedNotFound

#: Partners and hubs revalidate every time (cheap: ETag/Last-Modified give a 304),
#: so a change is visible to them the moment it is published.
CACHE_CONTROL = "public, max-age=0, must-revalidate"
#: Far beyond any archive we will have (ten items a page); a larger number is refused, not
#: looked up.
MAX_FEED_PAGE = 10**6


@require_safe
def feed(request: HttpRequest, kind: str, fmt: str, slug: str = "") -> HttpResponse:
    """Serve one feed page; ``?page=N`` selects an older archive page."""
    raw_page = request.GET.get("page", "1")
    try:
        page = parse_int(raw_page, name="page", minimum=1, maximum=MAX_FEED_PAGE)
    except InvalidNumber as exc:
        # The raw value is not echoed: it may be any length, or not printable.
        return JsonResponse({"error": str(exc)}, status=400)
    key = FeedKey(kind, slug)
    try:
        rendered = get_feed(key, fmt, page, request)
    except FeedNotFound as exc:
        return JsonResponse({"error": str(exc)}, status=404)

    response = HttpResponse(rendered.body, content_type=content_type_for(request, rendered))
    response["Vary"] = "Accept"
    response["ETag"] = rendered.etag
    response["Last-Modified"] = http_date(rendered.last_modified)
    response["Cache-Control"] = CACHE_CONTROL
    response["Link"] = link_header(rendered.self_url, page)
    return get_conditional_response(
        request, etag=rendered.etag, last_modified=rendered.last_modified, response=response
    )


def content_type_for(request: HttpRequest, rendered) -> str:
    """A browser opening an RSS or Atom link gets the same bytes as ``application/xml``.

    Browsers show ``application/rss+xml`` and ``application/atom+xml`` as plain text and
    apply the feed's XSLT stylesheet (a readable page with "how to subscribe") only to
    XML types. Feed readers and validators do not ask for HTML, so they keep the feed's
    own type; JSON Feed has no stylesheet and never changes.
    """
    is_xml_feed = rendered.content_type.split(";")[0].endswith("+xml")
    if is_xml_feed and "text/html" in request.headers.get("Accept", ""):
        return "application/xml; charset=utf-8"
    return rendered.content_type


def link_header(self_url: str, page: int) -> str:
    """WebSub discovery: each hub, and exactly one ``rel="self"`` (the topic of this format)."""
    links = [f'<{hub}>; rel="hub"' for hub in settings.WEBSUB_HUBS] if page == 1 else []
    links.append(f'<{self_url}>; rel="self"')
    return ", ".join(links)
