"""Wagtail API v2 wiring. v3 is Wagtail's own router, mounted as it ships."""

from django.utils import timezone
from wagtail.api.v2.router import WagtailAPIRouter
from wagtail.api.v2.utils import BadRequestError
from wagtail.api.v2.views import PagesAPIViewSet
from wagtail.documents.api.v2.views import DocumentsAPIViewSet
from wagtail.images.api.v2.views import ImagesAPIViewSet
from wagtail.models import Page


class StrictQueryMixin:
    """Turn bad query values that Wagtail lets through into 400s instead of 500s."""

    def initial(self, request, *args, **kwargs):
        # ``initial`` runs before list, detail and find views alike.
        super().initial(request, *args, **kwargs)
        operator = request.GET.get("search_operator")
        if operator is not None and operator.lower() not in {"and", "or"}:
            raise BadRequestError("search_operator must be 'and' or 'or'")


class ImagesEndpoint(StrictQueryMixin, ImagesAPIViewSet):
    pass


class DocumentsEndpoint(StrictQueryMixin, DocumentsAPIViewSet):
    pass


class PublicPagesAPIViewSet(StrictQueryMixin, PagesAPIViewSet):
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

    def find_object(self, queryset, request):
        # Wagtail answers ``find/?id=abc`` with a 500; a partner deserves a 400 that says why.
        raw_id = request.GET.get("id")
        if raw_id is not None and not raw_id.isdigit():
            raise BadRequestError("id must be a positive integer")
        return super().find_object(queryset, request)


api_router = WagtailAPIRouter("wagtailapi")
api_router.register_endpoint("pages", PublicPagesAPIViewSet)
api_router.register_endpoint("images", ImagesEndpoint)
api_router.register_endpoint("documents", DocumentsEndpoint)
