"""The screener's JSON API; included by a string from ``cms/urls.py`` (cms never imports us)."""

from django.urls import re_path

from . import api

app_name = "screening"

urlpatterns = [
    # The trailing slash is optional: APPEND_SLASH would answer a POST with a redirect.
    re_path(r"^(?P<page_id>[^/]+)/evaluate/?$", api.evaluate_view, name="evaluate"),
]
