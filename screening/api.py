"""``POST /api/screening/<page_id>/evaluate/``: the screener for apps and partner sites.

A plain Django view rather than a DRF/Ninja one: it has one method and one body shape, and
owning every line makes it easy to see that answers are evaluated and forgotten, never logged,
cached or echoed into a URL. Errors are JSON that names the problem (code + words).
"""

from __future__ import annotations

import json
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from wagtail.rich_text import expand_db_html

from cms import visibility
from cms.clients import client_key
from cms.content import absolutize, sanitize
from cms.params import InvalidNumber, parse_int

from .models import ScreenerPage, ScreeningOutcomeCount
from .rules import InvalidAnswers, evaluate

logger = logging.getLogger(__name__)

#: Bytes. The largest honest body (every item of a long screener) is well under 2 KB.
MAX_BODY_BYTES = 4096
MAX_ANSWERS = 100
MAX_ANSWER_LENGTH = 64
#: Requests per client per window (seconds); a fixed window counted in the shared cache.
DEFAULT_RATE_LIMIT = 30
DEFAULT_RATE_WINDOW = 60


def _json(status: int, body: dict, **headers: str) -> JsonResponse:
    response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    for name, value in headers.items():
        response[name] = value
    add_never_cache_headers(response)
    return response


def _error(status: int, code: str, detail: str, **extra) -> JsonResponse:
    headers = extra.pop("headers", {})
    return _json(status, {"error": code, "detail": str(detail), **extra}, **headers)


def rate_limit_retry_after(request: HttpRequest) -> int | None:
    """Count this request in the client's fixed window; seconds to wait if over the limit.

    The key holds only a hash of the address and the window number (never an answer);
    it expires with its window.
    """
    limit = int(getattr(settings, "SCREENING_API_RATE_LIMIT", DEFAULT_RATE_LIMIT))
    window = int(getattr(settings, "SCREENING_API_RATE_WINDOW", DEFAULT_RATE_WINDOW))
    now = int(time.time())
    start = now - now % window
    key = f"screening:rate:{client_key(request)}:{start}"
    cache.add(key, 0, timeout=window + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=window + 1)
        count = 1
    if count > limit:
        return max(1, start + window - now)
    return None


def find_screener(page_id: int) -> ScreenerPage | None:
    """A live, public, unexpired screener, or None: anything else is not found, whatever it is."""
    page = visibility.public_pages(ScreenerPage.objects.filter(pk=page_id)).first()
    if page is None or page.is_expired_now():
        return None
    return page


def _is_text(value: str) -> bool:
    """False for a string holding a lone surrogate, which no UTF-8 output can carry.

    ``json.loads`` turns the escape ``\\ud800`` into one; echoing it back (an unknown
    answer, an unexpected field name) then failed to encode, a 500.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_NOT_TEXT = _("The body must be valid Unicode text: it holds a lone surrogate (like \\ud800).")


def parse_answers(raw: bytes) -> list[str]:
    """The ``answers`` list from the body, or :class:`InvalidAnswers` naming what is wrong."""
    try:
        data = json.loads(raw.decode("utf-8"))
    # RecursionError: a few thousand nested brackets fit in MAX_BODY_BYTES.
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidAnswers(
            "invalid_json", _('The body must be JSON, like {"answers": ["<item id>"]}.')
        ) from None
    if not isinstance(data, dict):
        raise InvalidAnswers("invalid_body", _('The body must be a JSON object with "answers".'))
    if not all(_is_text(key) for key in data):
        raise InvalidAnswers("invalid_unicode", _NOT_TEXT)
    extra = sorted(set(data) - {"answers"})
    if extra:
        raise InvalidAnswers(
            "unexpected_fields", _("Only “answers” is accepted; remove: %s.") % ", ".join(extra)
        )
    if "answers" not in data:
        raise InvalidAnswers("missing_answers", _("“answers” is required."))
    answers = data["answers"]
    if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
        raise InvalidAnswers(
            "invalid_answers", _("“answers” must be a list of item ids (strings).")
        )
    if not all(_is_text(answer) for answer in answers):
        raise InvalidAnswers("invalid_unicode", _NOT_TEXT)
    if len(answers) > MAX_ANSWERS or any(len(a) > MAX_ANSWER_LENGTH for a in answers):
        raise InvalidAnswers("invalid_answers", _("“answers” is too long."))
    return answers


@csrf_exempt  # JSON in, JSON out; no cookie grants anything here, so there is nothing to forge
def evaluate_view(request: HttpRequest, page_id: str) -> JsonResponse:
    """Evaluate answers for one screener; keep only the day's anonymous outcome count."""
    if request.method != "POST":
        return _error(
            405,
            "method_not_allowed",
            _("Use POST with a JSON body."),
            headers={"Allow": "POST"},
        )
    retry_after = rate_limit_retry_after(request)
    if retry_after is not None:
        logger.warning("screening API: a client exceeded the rate limit")
        return _error(
            429,
            "rate_limited",
            _("Too many requests. Try again in %d seconds.") % retry_after,
            headers={"Retry-After": str(retry_after)},
        )
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        return _error(
            413, "body_too_large", _("The body must be at most %d bytes.") % MAX_BODY_BYTES
        )
    raw = request.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        return _error(
            413, "body_too_large", _("The body must be at most %d bytes.") % MAX_BODY_BYTES
        )
    try:
        number = parse_int(page_id, name="page_id", minimum=1)
    except InvalidNumber as exc:
        return _error(400, "invalid_page_id", exc.message)
    page = find_screener(number)
    if page is None:
        return _error(404, "not_found", _("There is no published screener with this id."))
    try:
        outcome = evaluate(page.screening_rules(), parse_answers(raw))
    except InvalidAnswers as exc:
        extra = {"unknown_answers": exc.unknown} if exc.unknown else {}
        return _error(400, exc.code, exc.message, **extra)
    ScreeningOutcomeCount.record(page.pk, outcome)
    return _json(200, outcome_body(request, page, outcome))


def outcome_body(request: HttpRequest, page: ScreenerPage, outcome: str) -> dict:
    """The outcome as a partner shows it: sanitised HTML with absolute links, and where next."""
    site = page.get_site()
    base_url = site.root_url if site else request.build_absolute_uri("/")
    message_html = absolutize(sanitize(expand_db_html(page.outcome_message(outcome))), base_url)
    next_page = page.next_page(outcome)
    return {
        "outcome": outcome,
        "message_html": message_html,
        "next_url": next_page.get_full_url(request) if next_page else None,
    }
