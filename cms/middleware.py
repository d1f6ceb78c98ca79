"""Guard the API against query values that crash the layers beneath it.

Wagtail's API answers an offset beyond the database's integer range, an offset written
in other digits than 0-9 (``?offset=²``), a search term containing a NUL byte, or a
search of hundreds of words with a 500 (the database driver or the search backend
raises). These are refused here with a 400 that says what is wrong, for v2 and v3 alike,
before any of them reaches Wagtail.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy as _

from cms.params import InvalidNumber, parse_int
from cms.search import MAX_WORD_LENGTH, MAX_WORDS, parse_search

MAX_OFFSET = 10**9
INTEGER_PARAMS = ("offset", "limit")


def _words_only_search(request: HttpRequest) -> str | None:
    """Reduce ``search`` to its words (see cms.search); a problem if none are left."""
    if "search" not in request.GET:
        return None
    raw = request.GET["search"]
    terms = parse_search(raw)
    if terms.too_many_words:
        return _("“search” must have at most %(count)d words.") % {"count": MAX_WORDS}
    if terms.word_too_long:
        return _("Each word of “search” must be at most %(length)d characters.") % {
            "length": MAX_WORD_LENGTH
        }
    if raw.strip() and not terms.words:
        return _("search must contain at least one word")
    if str(terms) != raw:
        query = request.GET.copy()
        query["search"] = str(terms)
        request.GET = query
    return None


def _problem(request: HttpRequest) -> str | None:
    for key, values in request.GET.lists():
        for value in values:
            if "\x00" in key or "\x00" in value:
                return _("query parameter %(name)r contains a NUL byte") % {"name": key}
    for name in INTEGER_PARAMS:
        for value in request.GET.getlist(name):
            try:
                parse_int(value, name=name, maximum=MAX_OFFSET)
            except InvalidNumber as exc:
                return str(exc)
    return None


class APIInputGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            problem = _problem(request) or _words_only_search(request)
            if problem:
                return JsonResponse({"message": str(problem), "status": 400}, status=400)
        return self.get_response(request)


class APICacheHeadersMiddleware:
    """Let partners revalidate API reads cheaply; never let shared caches keep private ones.

    Django's ConditionalGetMiddleware adds the ETag and answers If-None-Match with 304.
    Because the ETag is computed from the body, a publish changes list and detail
    responses alike: nothing has to be invalidated by hand.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/api/") or request.method not in ("GET", "HEAD"):
            return response
        if response.has_header("Cache-Control"):
            return response
        user = getattr(request, "user", None)
        personal = "HTTP_AUTHORIZATION" in request.META or bool(user and user.is_authenticated)
        response["Cache-Control"] = (
            "private, no-cache" if personal else "public, max-age=0, must-revalidate"
        )
        response.setdefault("Vary", "Authorization, Origin")
        return response
