"""The product's URLs plus ``/bench/trivial/``: the cheapest response the same stack can give."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def trivial(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok", content_type="text/plain; charset=utf-8")


urlpatterns = [
    path("bench/trivial/", trivial),
    path("", include("cms.urls")),
]
