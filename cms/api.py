"""Wagtail API v2 wiring. v3 is Wagtail's own router, mounted as it ships."""

from django.conf import settings
from django.core.signing import BadSignature
from django.db.models import QuerySet
from django.http import Http404
from django.urls import NoReverseMatch
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from wagtail.api.v2.pagination import WagtailPagination
from wagtail.api.v2.router import WagtailAPIRouter
from wagtail.api.v2.serializers import PageHtmlUrlField, PageSerializer
from wagtail.api.v2.utils import BadRequestError
from wagtail.api.v2.views import PagesAPIViewSet
from wagtail.documents.api.v2.views import DocumentsAPIViewSet
from wagtail.images.api.v2.views import ImagesAPIViewSet
from wagtail_headless_preview.models import HeadlessPreviewMixin, PagePreview

from cms import visibility
from cms.params import InvalidNumber, parse_int
from cms.response_cache import mark_public
from cms.rich_text import RichTextField
from cms.serializers import PublicRichTextSerializer


class StrictQueryMixin:
    """Turn bad query values that Wagtail lets through into 400s instead of 500s."""

    def initial(self, request, *args, **kwargs):
        # ``initial`` runs before list, detail and find views alike.
        super().initial(request, *args, **kwargs)
        operator = request.GET.get("search_operator")
        if operator is not None and operator.lower() not in {"and", "or"}:
            raise BadRequestError("search_operator must be 'and' or 'or'")

    def find_object(self, queryset, request):
        # Wagtail answers ``find/?id=abc`` (or ``²``) with a 500 on pages, images and
        # documents alike; a partner deserves a 400 that says why.
        raw_id = request.GET.get("id")
        if raw_id is not None:
            try:
                parse_int(raw_id, name="id", minimum=1)
            except InvalidNumber as exc:
                raise BadRequestError(str(exc)) from None
        return super().find_object(queryset, request)


class PublicMediaMixin:
    """Images and documents under the one visibility rule: none from a restricted
    collection, whoever asks (Wagtail's own check lets a session that passed a
    collection's password see its files, and these answers are shared)."""

    def get_queryset(self):
        return visibility.public_media(super().get_queryset())


class ImagesEndpoint(StrictQueryMixin, PublicMediaMixin, ImagesAPIViewSet):
    pass


class DocumentsEndpoint(StrictQueryMixin, PublicMediaMixin, DocumentsAPIViewSet):
    pass


class RequestPageHtmlUrlField(PageHtmlUrlField):
    """``html_url`` built with the request, so site root paths are looked up once per
    request instead of once per page (a cache round trip each)."""

    def to_representation(self, page):
        try:
            return page.get_full_url(request=self.context.get("request"))
        except NoReverseMatch:
            return None


class PublicPageSerializer(PageSerializer):
    html_url = RequestPageHtmlUrlField(read_only=True)

    serializer_field_mapping = {
        **PageSerializer.serializer_field_mapping,
        RichTextField: PublicRichTextSerializer,
    }


class IdsFirstPagination(WagtailPagination):
    """Wagtail's offset pagination, reading the slice's ids first and then only those rows.

    ``OFFSET 90000`` over the full rows made PostgreSQL sort or walk 90,000 posts with
    their bodies; over ids it skips narrow rows, and the 20 wanted rows come by primary
    key. A slice in the back half is read from the far end (the order reversed), which
    walks a tenth as many rows 90 % down. For that the order must be total, so the ids
    are ordered with the primary key as the last key: rows that tie on the requested
    order (the same ``first_published_at``) come out in one fixed order on every page,
    where before PostgreSQL put them in whatever order its plan gave. Random order and
    search results (not querysets) pass through as Wagtail pages them.
    """

    def paginate_queryset(self, queryset, request, view=None):
        window = super().paginate_queryset(queryset, request, view)
        if not isinstance(window, QuerySet):
            return window
        order = [*queryset.query.order_by] or [*queryset.model._meta.ordering]
        if not all(isinstance(key, str) and key != "?" for key in order):
            return window
        start, stop, count = window.query.low_mark, window.query.high_mark, self.total_count
        if {key.lstrip("-") for key in order}.isdisjoint({"pk", "id", "page_ptr_id"}):
            order.append("-pk" if order and order[0].startswith("-") else "pk")
        ids_in_order = queryset.order_by(*order).values_list("pk", flat=True)
        if start >= count:
            ids = []
        elif start > count // 2:
            from_end = ids_in_order.reverse()[count - min(stop, count) : count - start]
            ids = list(from_end)[::-1]
        else:
            ids = list(ids_in_order[start:stop])
        found = queryset.order_by().in_bulk(ids)
        return [found[pk] for pk in ids if pk in found]


class PublicPagesAPIViewSet(StrictQueryMixin, PagesAPIViewSet):
    """Wagtail's pages endpoint under the one visibility rule (``cms.visibility``)."""

    base_serializer_class = PublicPageSerializer
    pagination_class = IdsFirstPagination
    #: Listing and detail answers are the same for every anonymous partner: cacheable.
    public_response_cache = True

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.public_response_cache and getattr(self, "action", None) in (
            "listing_view",
            "detail_view",
        ):
            mark_public(response)
        return response

    def get_queryset(self):
        """Fetch what the serializer reads in a fixed number of queries, whatever the limit.

        Page types list their related objects in ``api_prefetch_related``.
        """
        queryset = super().get_queryset().select_related("locale")
        related = getattr(queryset.model, "api_prefetch_related", ())
        return queryset.prefetch_related(*related) if related else queryset

    def get_base_queryset(self):
        # Wagtail's queryset lets a session that passed a page's password see that page;
        # the API is a shared output, so the one visibility rule decides instead.
        return visibility.public_pages(super().get_base_queryset())


class PagePreviewAPIViewSet(PublicPagesAPIViewSet):
    """A draft as the pages API would show it once published, for partner front-ends.

    Only with a token that Wagtail's headless preview signed in the admin, and only until
    it is ``HEADLESS_PREVIEW_MAX_AGE`` seconds old: without one, nothing unpublished
    leaves the system.
    """

    known_query_parameters = PublicPagesAPIViewSet.known_query_parameters.union(
        ["content_type", "token"]
    )
    # A draft behind a token that expires: never stored.
    public_response_cache = False
    # JSON in every setting (not the browsable API under DEBUG), as a partner reads it.
    renderer_classes = [JSONRenderer]

    def listing_view(self, request):
        self.action = "detail_view"
        return self.detail_view(request, 0)

    def detail_view(self, request, pk):
        page = self.get_object()
        response = Response(self.get_serializer(page).data)
        # The admin shows this inside its preview panel; nobody else may frame or keep it.
        response["X-Frame-Options"] = "SAMEORIGIN"
        response["Cache-Control"] = "private, no-store"
        # Chromium's JSON viewer styles its pretty-print toggle inline; a JSON answer
        # (nosniff) carries no markup of ours, so allowing that style loosens nothing.
        response._csp_replace = {
            "frame-ancestors": ["'self'"],
            "style-src": ["'self'", "'unsafe-inline'"],
        }
        return response

    def get_object(self):
        token = self.request.GET.get("token", "")
        label = self.request.GET.get("content_type", "")
        if not token or label.count(".") != 1:
            raise BadRequestError("content_type (app.model) and token are required")
        try:
            HeadlessPreviewMixin.get_preview_signer().unsign(
                token, max_age=settings.HEADLESS_PREVIEW_MAX_AGE
            )
        except BadSignature as exc:
            raise Http404("preview token is invalid or has expired") from exc
        app_label, model = label.lower().split(".")
        preview = PagePreview.objects.filter(
            content_type__app_label=app_label, content_type__model=model, token=token
        ).first()
        if preview is None:
            raise Http404("no preview for this token")
        page = preview.as_page()
        if not page.pk:
            page.pk = 0  # a page not saved yet: the serializer needs some id
        return page


api_router = WagtailAPIRouter("wagtailapi")
api_router.register_endpoint("pages", PublicPagesAPIViewSet)
api_router.register_endpoint("images", ImagesEndpoint)
api_router.register_endpoint("documents", DocumentsEndpoint)
api_router.register_endpoint("page_preview", PagePreviewAPIViewSet)
