"""Wagtail API v2 wiring. v3 is Wagtail's own router, mounted as it ships."""

from django.utils import timezone
from wagtail.api.v2.router import WagtailAPIRouter
from wagtail.api.v2.views import PagesAPIViewSet
from wagtail.documents.api.v2.views import DocumentsAPIViewSet
from wagtail.images.api.v2.views import ImagesAPIViewSet
from wagtail.models import Page


class PublicPagesAPIViewSet(PagesAPIViewSet):
    """Wagtail's pages endpoint, also hiding pages whose expiry time has passed.

    Wagtail only flips ``live`` off when the scheduler runs; a partner must not see an
    expired page in the moment between its expiry and that run.
    """

    def get_base_queryset(self):
        # An id list rather than an ``expire_at`` filter: search only accepts filters on
        # indexed fields, and the list is tiny (expired pages not yet unpublished).
        overdue = Page.objects.live().filter(expire_at__lte=timezone.now())
        overdue_ids = list(overdue.values_list("pk", flat=True))
        return super().get_base_queryset().exclude(pk__in=overdue_ids)


api_router = WagtailAPIRouter("wagtailapi")
api_router.register_endpoint("pages", PublicPagesAPIViewSet)
api_router.register_endpoint("images", ImagesAPIViewSet)
api_router.register_endpoint("documents", DocumentsAPIViewSet)
