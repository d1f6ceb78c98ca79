"""A page create that lost a slug race answers with the page or a form error, not a 500.

Wagtail's create view checks the slug in the form, then saves with ``add_child``, which
checks it again. When one form is sent twice at once (a double submit, or a browser
resending a POST after a dropped connection), both pass the form's check before either
commits; the second's ``add_child`` raises ``ValidationError`` and Wagtail answers 500,
though the first created the page (seen in the editor journey under load, issue 17).
That one case sends the editor to the page the first request created, saying so.

When the page that took the slug is not this form's (another editor's, or another page
of this editor's made at the same instant), the view runs once more: its form check now
sees the slug taken and answers with Wagtail's own form error, the editor's input kept.
Any other error is left to Django as before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import ResolverMatch
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.models import Page

CREATE_VIEW = "wagtailadmin_pages:add"
#: A page this recent, by this editor, with this form's title and slug, is this form's.
SAME_FORM_WITHIN = dt.timedelta(minutes=2)


def _created_by_this_form(request: HttpRequest, parent_id: int) -> Page | None:
    slug, title = request.POST.get("slug", ""), request.POST.get("title", "")
    if not slug or not title:
        return None
    parent = Page.objects.filter(pk=parent_id).first()
    if parent is None:
        return None
    page = parent.get_children().filter(slug=slug).first()
    if (
        page is None
        or page.owner_id != request.user.pk
        or page.draft_title != title
        # No revision yet: the first request is between its add_child and its revision.
        or (
            page.latest_revision_created_at is not None
            and timezone.now() - page.latest_revision_created_at > SAME_FORM_WITHIN
        )
    ):
        return None
    return page


def _once_more(
    request: HttpRequest, match: ResolverMatch, exception: ValidationError
) -> HttpResponse | None:
    """The create view again, once, for a slug another page took meanwhile.

    ``add_child`` is atomic, so the failed attempt left nothing behind; the retry's form
    reports the clash as a field error. A second failure is Django's to answer.
    """
    clash = "slug" in getattr(exception, "error_dict", {})
    if not clash or getattr(request, "_page_create_retried", False):
        return None
    request._page_create_retried = True
    return match.func(request, *match.args, **match.kwargs)


class PageCreateRaceMiddleware:
    """Only ``process_exception``, only for Wagtail's page create view."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        match = getattr(request, "resolver_match", None)
        if (
            not isinstance(exception, ValidationError)
            or request.method != "POST"
            or match is None
            or match.view_name != CREATE_VIEW
            or not request.user.is_authenticated
        ):
            return None
        page = _created_by_this_form(request, match.kwargs.get("parent_page_id"))
        if page is None:
            return _once_more(request, match, exception)
        messages.warning(
            request,
            _("This form was sent twice; “%(title)s” was created once, from the first. Here it is.")
            % {"title": page.draft_title},
        )
        return redirect("wagtailadmin_pages:edit", page.pk)
