"""The APIs are shared outputs: they answer every caller without a token alike.

Wagtail's API lets a request's session widen what it returns: a session that passed a
page's (or a collection's) password sees that page in v2 and v3, and a signed-in user's
session sees login-restricted pages in v2. Such answers then look public to every cache
between us and the next reader. Here, API requests are read as anonymous unless they
carry an API token (v3's bearer tokens are how partners and tools write), and Wagtail's
v3 public tier goes through the one visibility rule (``cms.visibility``):

* v3 page reads (list, detail, find, search) exclude pages past ``expire_at``;
* ``meta.parent`` is ``null`` where the parent is not public (a draft section's title);
* the redirects endpoints need a token (they name the old paths of private pages).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.base import SessionBase
from django.db.models import Field, Model
from django.http import HttpRequest, HttpResponse, JsonResponse
from wagtail.api.v3.schemas.generators.read import SchemaGenerator, rich_text_schema

from cms import visibility
from cms.serializers import public_api_rich_text

API_PREFIX = "/api/"
V3_PAGES_PREFIX = "/api/v3/pages/"
V3_REDIRECTS_PREFIX = "/api/v3/redirects/"


def _token_user_is_valid(request: HttpRequest) -> bool:
    """A bearer token Wagtail accepts (an unknown or revoked one counts as none)."""
    from wagtail.api.v3.auth import BearerTokenAuth

    header = request.META.get("HTTP_AUTHORIZATION", "")
    token = header.split(" ", 1)[1].strip() if " " in header else ""
    probe = HttpRequest()
    return bool(token) and BearerTokenAuth().authenticate(probe, token) is not None


def _hide_private_parents(response: HttpResponse) -> None:
    """``meta.parent`` names a parent only when the public may see it."""
    try:
        data = json.loads(response.content)
    except ValueError:
        return
    objects = data.get("items", [data]) if isinstance(data, dict) else []
    metas = [obj.get("meta") for obj in objects if isinstance(obj, dict)]
    parents = [m for m in metas if isinstance(m, dict) and isinstance(m.get("parent"), dict)]
    if not parents:
        return
    ids = {parent["parent"].get("id") for parent in parents}
    shown = set(visibility.public_pages().filter(pk__in=ids).values_list("pk", flat=True))
    hidden = [meta for meta in parents if meta["parent"].get("id") not in shown]
    if not hidden:
        return
    for meta in hidden:
        meta["parent"] = None
    response.content = json.dumps(data).encode()
    if response.has_header("Content-Length"):
        response["Content-Length"] = str(len(response.content))


class PublicAPIMiddleware:
    """Read every API request as anonymous, with an empty session; a v3 bearer token
    then signs its holder in as Wagtail does.

    After AuthenticationMiddleware. The real session is put back for the response, so
    the session cookie is left as it was.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        if request.path.startswith(V3_REDIRECTS_PREFIX) and not _token_user_is_valid(request):
            return JsonResponse(
                {"message": "The redirects endpoints need an API token.", "status": 401},
                status=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        session, user = getattr(request, "session", None), getattr(request, "user", None)
        request.session = SessionBase()
        request.user = AnonymousUser()
        try:
            response = self.get_response(request)
        finally:
            if session is not None:
                request.session = session
            if user is not None:
                request.user = user
        if (
            request.method in ("GET", "HEAD")
            and request.path.startswith(V3_PAGES_PREFIX)
            and response.status_code == 200
            and response.get("Content-Type", "").startswith("application/json")
        ):
            _hide_private_parents(response)
        return response


def public_rich_text_schema(generator: SchemaGenerator, field: Field) -> tuple:
    """How v3 reads a ``cms.rich_text.RichTextField``: Wagtail's schema for rich text, the
    value read as the v2 API reads it (``cms.serializers.public_api_rich_text``).

    Registered on v3's ``read_generator`` in ``CmsConfig.ready``; Wagtail's lookup follows
    the field's class hierarchy, so it wins over the one for Wagtail's own field.
    """
    annotation, default, _wagtail_resolve = rich_text_schema(generator, field)
    field_name, features = field.name, getattr(field, "features", None)

    def resolve(obj: Model, context: dict) -> str | None:
        return public_api_rich_text(
            getattr(obj, field_name), context.get("request"), features=features
        )

    return annotation, default, staticmethod(resolve)


def install_v3_visibility() -> None:
    """Put Wagtail's v3 public page reads under the one visibility rule.

    Wagtail 8.0's v3 pages router reads pages through the module-level function
    ``get_pages_queryset`` and offers no subclass, setting or hook to change it, so the
    name it calls is rebound once at start-up (``CmsConfig.ready``). The token tier
    (signed-in partners and tools) is left as Wagtail has it.
    """
    from wagtail.api.v3.routers import pages

    original = pages.get_pages_queryset
    if getattr(original, "_cms_visibility", False):
        return

    def get_pages_queryset(request, *args, **kwargs):
        queryset = original(request, *args, **kwargs)
        if request.user.is_authenticated:
            return queryset
        return visibility.public_pages(queryset)

    get_pages_queryset._cms_visibility = True
    pages.get_pages_queryset = get_pages_queryset
