"""Wagtail's redirects, never to a page the public may not see.

A redirect to a draft or private page would hand out that page's URL (its slug often
says what it is about), so such a redirect answers the 404 it replaces until the page
is public.
"""

from __future__ import annotations

from urllib.parse import urlparse

from django.http import HttpRequest, HttpResponse
from wagtail.contrib.redirects.middleware import RedirectMiddleware, get_redirect
from wagtail.contrib.redirects.models import Redirect

from cms import visibility


class PublicRedirectMiddleware(RedirectMiddleware):
    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        redirected = super().process_response(request, response)
        if redirected is response:
            return response
        # The same lookup Wagtail just made, to see where the redirect leads.
        path = Redirect.normalise_path(request.get_full_path(), decode_unicode=False)
        redirect = get_redirect(request, path) or get_redirect(request, urlparse(path).path)
        if redirect is not None and redirect.redirect_page_id:
            if not visibility.is_public(redirect.redirect_page):
                return response
        return redirected
