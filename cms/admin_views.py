"""Admin views for health content whose clinical review is overdue or due soon."""

import datetime as dt

from django.apps import apps
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.components import Component
from wagtail.admin.ui.tables import Column, DateColumn, TitleColumn
from wagtail.admin.views.reports import ReportView
from wagtail.models import Page

from cms.models import HealthReviewMixin

REVIEW_WARNING_DAYS = 30


class ReviewStatusColumn(Column):
    """Says "Overdue" or "Due soon" in words, not colour alone."""

    def get_value(self, instance) -> str:
        if instance.next_review_due is None:
            return str(_("Never reviewed"))
        if instance.next_review_due < timezone.localdate():
            return str(_("Overdue"))
        return str(_("Due soon"))


class ReviewsDueReportView(ReportView):
    page_title = _("Reviews due")
    header_icon = "date"
    index_url_name = "cms_reviews_due"
    index_results_url_name = "cms_reviews_due_results"
    columns = [
        TitleColumn(
            "title",
            label=_("Page"),
            get_url=lambda page: f"/admin/pages/{page.pk}/edit/",
        ),
        ReviewStatusColumn("status", label=_("Status")),
        DateColumn("next_review_due", label=_("Next review due")),
        DateColumn("last_reviewed", label=_("Last reviewed")),
        Column("reviewed_by", label=_("Reviewed by")),
    ]
    list_export = ["title", "next_review_due", "last_reviewed", "reviewed_by"]

    def get_queryset(self):
        return reviews_due()


def health_page_models() -> list[type[Page]]:
    """Every concrete page type with a clinical review (blog posts, screener, program,
    event pages), found through the shared mixin so cms names no other app."""
    return [
        model
        for model in apps.get_models()
        if issubclass(model, HealthReviewMixin) and issubclass(model, Page)
    ]


def reviews_due(within_days: int = REVIEW_WARNING_DAYS) -> list[Page]:
    """Live health pages of every type never reviewed, overdue, or due within
    ``within_days``: never reviewed first, then soonest due."""
    horizon = timezone.localdate() + dt.timedelta(days=within_days)
    pages: list[Page] = []
    for model in health_page_models():
        pages += (
            model.objects.live()
            .filter(Q(next_review_due__lte=horizon) | Q(next_review_due__isnull=True))
            .select_related("reviewed_by")
        )
    return sorted(
        pages, key=lambda page: (page.next_review_due is not None, page.next_review_due, page.pk)
    )


class ReviewsDuePanel(Component):
    """Dashboard panel: the next health pages whose clinical review is due."""

    name = "reviews_due"
    order = 160
    template_name = "cms/admin/reviews_due_panel.html"

    def get_context_data(self, parent_context=None) -> dict:
        pages = list(reviews_due()[:6])
        today = timezone.localdate()
        for page in pages:
            page.review_overdue = page.next_review_due is None or page.next_review_due < today
        return {"pages": pages, "report_url": reverse("cms_reviews_due")}
