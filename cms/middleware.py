"""Guard the API against query values that crash the layers beneath it.

Wagtail's API answers an offset beyond the database's integer range, or a search term
containing a NUL byte, with a 500 (the database driver raises). These are refused here
with a 400 that says what is wrong, for v2 and v3 alike.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from cms.search import search_terms

MAX_OFFSET = 10**9
INTEGER_PARAMS = ("offset", "limit")


def _words_only_search(request: HttpRequest) -> str | None:
    """Reduce ``search`` to its words (see cms.search); a problem if none are left."""
    if "search" not in request.GET:
        return None
    raw = request.GET["search"]
    terms = search_terms(raw)
    if raw.strip() and not terms:
        return "search must contain at least one word"
    if terms != raw:
        query = request.GET.copy()
        query["search"] = terms
        request.GET = query
    return None


def _problem(request: HttpRequest) -> str | None:
    for key, values in request.GET.lists():
        for value in values:
            if "\x00" in key or "\x00" in value:
                return f"query parameter {key!r} contains a NUL byte"
    for name in INTEGER_PARAMS:
        value = request.GET.get(name)
        if value is None:
            continue
        if not value.isdigit():
            return f"{name} must be a non-negative integer"
        if int(value) > MAX_OFFSET:
            return f"{name} must be at most {MAX_OFFSET}"
    return None


class APIInputGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            problem = _problem(request) or _words_only_search(request)
            if problem:
                return JsonResponse({"message": problem, "status": 400}, status=400)
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
