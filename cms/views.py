"""Site-wide views: robots.txt, the health report and site search."""

import time

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from wagtail.contrib.sitemaps import Sitemap
from wagtail.models import Site

from cms import health, visibility
from cms.models.site_settings import DEFAULT_BRAND_COLOUR, ReaderTrustSettings, darker
from cms.search import MAX_WORD_LENGTH, MAX_WORDS, did_you_mean, parse_search

BEAT_TICK_CACHE_KEY = "publishing:beat:last_tick"

#: The colour is in the stylesheet's URL (``?v=``), so a changed colour is a new URL.
THEME_CSS_MAX_AGE = 24 * 60 * 60


@require_GET
def theme_css(request: HttpRequest) -> HttpResponse:
    """The department's brand colour as CSS custom properties (reader pages run no inline
    style: the Content-Security-Policy allows only this origin's stylesheets)."""
    site = Site.find_for_request(request)
    found = ReaderTrustSettings.objects.filter(site=site).first() if site else None
    colour = found.brand_colour if found else DEFAULT_BRAND_COLOUR
    dark = found.brand_colour_dark if found else darker(DEFAULT_BRAND_COLOUR)
    body = f":root {{ --brand: {colour}; --brand-dark: {dark}; }}\n"
    response = HttpResponse(body, content_type="text/css; charset=utf-8")
    response["Cache-Control"] = f"public, max-age={THEME_CSS_MAX_AGE}"
    return response


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page links: send them to the icon."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


@require_GET
def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /django-admin/",
        f"Sitemap: {request.build_absolute_uri('/sitemap.xml')}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


def _check(fn) -> dict:
    started = time.monotonic()
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - a health check reports every failure
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}


def _ping_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _ping_cache() -> None:
    cache.set("healthz:ping", "1", 10)
    if cache.get("healthz:ping") != "1":
        raise RuntimeError("cache did not return what was written")


def _ping_broker() -> None:
    from cms.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Report each dependency separately so an operator sees which one is down."""
    checks = {
        "database": _check(_ping_database),
        "cache": _check(_ping_cache),
        "broker": _check(_ping_broker),
    }
    last_tick = cache.get(BEAT_TICK_CACHE_KEY) if checks["cache"]["ok"] else None
    beat_age = round(time.time() - last_tick, 1) if last_tick else None
    max_age = settings.BEAT_MAX_AGE_SECONDS
    checks["beat"] = {"ok": beat_age is not None and beat_age <= max_age, "age_seconds": beat_age}
    if checks["database"]["ok"]:
        for name, check in health.registered().items():
            try:
                checks[name] = check()
            except Exception as exc:  # noqa: BLE001 - a health check reports every failure
                checks[name] = {"ok": False, "error": exc.__class__.__name__}
    healthy = all(check["ok"] for check in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unhealthy", "checks": checks},
        status=200 if healthy else 503,
    )


SEARCH_RESULTS_PER_PAGE = 10
#: Characters of a query echoed back as typed; a longer one is shown as its words.
MAX_QUERY_SHOWN = 200


class PublicSitemap(Sitemap):
    """Wagtail's sitemap (the pages of this site) under the one visibility rule."""

    def items(self):
        return visibility.public_pages(super().items())


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """Site search over posts, events and pages (Wagtail search; no JavaScript needed)."""
    raw = request.GET.get("query", "").strip()
    parsed = parse_search(raw)
    # The box shows what was searched when that is not what was typed (too many words,
    # overlong words or a flood of punctuation): re-submitting it searches the same.
    shown_whole = not parsed.truncated and len(raw) <= MAX_QUERY_SHOWN
    query = raw if shown_whole else str(parsed)
    results = None
    suggestion = ""
    terms = str(parsed)
    if terms:
        public = visibility.public_pages().specific()
        found = public.search(terms)
        if not found.count():
            # Word beginnings ("chemo" for "chemotherapy"): see cms.search.
            found = public.autocomplete(terms)
        paginator = Paginator(found, SEARCH_RESULTS_PER_PAGE)
        results = paginator.get_page(request.GET.get("page"))
        if not paginator.count:
            suggestion = did_you_mean(parsed)
    context = {
        "suggestion": suggestion,
        "query": query,
        "results": results,
        # Results are for the first words only: the reader is told so, not refused.
        "truncated": parsed.truncated,
        "max_words": MAX_WORDS,
        "max_word_length": MAX_WORD_LENGTH,
    }
    return TemplateResponse(request, "cms/search.html", context)
