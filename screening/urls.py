"""The screener's JSON API; included by a string from ``cms/urls.py`` (cms never imports us)."""

from django.urls import path

from . import api

app_name = "screening"

urlpatterns = [
    path("<str:page_id>/evaluate/", api.evaluate_view, name="evaluate"),
]
