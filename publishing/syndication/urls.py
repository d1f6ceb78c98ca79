"""Feed URLs, included from cms.urls as ``feeds/`` by a string include."""

from django.urls import re_path

from . import views

app_name = "feeds"

_FMT = r"(?P<fmt>rss|atom|json)"

urlpatterns = [
    re_path(rf"^blog/{_FMT}/$", views.feed, {"kind": "blog"}, name="blog"),
    re_path(rf"^blog/tag/(?P<slug>[^/]+)/{_FMT}/$", views.feed, {"kind": "tag"}, name="tag"),
    re_path(
        rf"^blog/author/(?P<slug>[^/]+)/{_FMT}/$",
        views.feed,
        {"kind": "author"},
        name="author",
    ),
    re_path(rf"^events/{_FMT}/$", views.feed, {"kind": "events"}, name="events"),
]
