from django.contrib import admin
from django.urls import include, path, re_path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.api.v3.urls import api as api_v3
from wagtail.contrib.sitemaps.views import sitemap
from wagtail.documents import urls as wagtaildocs_urls

from cms import media, openapi, page_passwords, views
from cms.api import api_router

urlpatterns = [
    path("django-admin/", admin.site.urls),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("api/v2/", api_router.urls),
    path("api/openapi.json", openapi.openapi_view, name="openapi"),
    path("api/v3/", api_v3.urls),
    # By string: cms never imports screening (tests/test_project.py checks the direction).
    path("api/screening/", include("screening.urls")),
    # By string too: cms never imports publishing.
    path("api/changes/", include("publishing.webhooks.urls")),
    path("sitemap.xml", sitemap, {"sitemaps": {"pages": views.PublicSitemap}}),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path("healthz", views.healthz, name="healthz"),
    path("search/", views.search, name="search"),
    path("theme.css", views.theme_css, name="theme_css"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("feeds/", include("publishing.syndication.urls")),
    # Each editor's private ICS feed of the editorial calendar (token in the address).
    path("calendar/", include("publishing.scheduler.urls")),
    # Uploaded files, only where the public may see them (see cms/media.py).
    re_path(r"^media/(?P<path>.+)$", media.serve_media, name="media"),
    # Before Wagtail's own: counts wrong page passwords, then calls Wagtail's view.
    path(
        "_util/authenticate_with_password/<int:page_view_restriction_id>/<int:page_id>/",
        page_passwords.authenticate_with_password,
    ),
]

urlpatterns += [path("", include(wagtail_urls))]
