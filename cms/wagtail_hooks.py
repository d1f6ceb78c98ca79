"""Admin customisation for site content: author snippets and the reviews-due report."""

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import ReferenceIndex
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from cms import visibility
from cms.admin_views import ReviewsDuePanel, ReviewsDueReportView
from cms.models import Author, Promo
from cms.panels import schedule_time
from cms.params import valid_ids
from cms.rich_text import PublicDocumentLinkHandler, PublicImageEmbedHandler


class AuthorViewSet(SnippetViewSet):
    model = Author
    icon = "user"
    menu_label = _("Authors")
    list_display = ["name", "credentials"]
    search_fields = ["name", "credentials"]
    add_to_admin_menu = True
    menu_order = 300


class PromoViewSet(SnippetViewSet):
    model = Promo
    icon = "pick"
    menu_label = _("Promotions")
    list_display = ["title", "live", "go_live_at", "expire_at"]
    add_to_admin_menu = True
    menu_order = 310


register_snippet(AuthorViewSet)
register_snippet(PromoViewSet)


@hooks.register("register_admin_urls")
def register_review_report_urls():
    view = ReviewsDueReportView
    return [
        path("reports/reviews-due/", view.as_view(), name="cms_reviews_due"),
        path(
            "reports/reviews-due/results/",
            view.as_view(results_only=True),
            name="cms_reviews_due_results",
        ),
    ]


@hooks.register("register_reports_menu_item")
def register_review_report_menu_item():
    return MenuItem(_("Reviews due"), reverse("cms_reviews_due"), icon_name="date", order=700)


def _live_expiry(obj) -> tuple[bool, object]:
    """Whether the stored object is live, and the expiry in force on it.

    A draft of a live object is saved in a revision only: the row keeps what is live.
    """
    if not getattr(obj, "pk", None):
        return False, None
    row = type(obj)._default_manager.filter(pk=obj.pk).values("live", "expire_at").first()
    return (row["live"], row["expire_at"]) if row else (False, None)


def _warn_if_schedule_not_in_force(request, obj) -> None:
    """Saving a draft schedules nothing, go-live or expiry alike: say so, in words.

    An expiry saved on a draft of a live page is the dangerous case: the editor believes
    an outdated page will come down, and the live page keeps the expiry it had.
    """
    if "action-publish" in request.POST or request.method != "POST":
        return
    go_live_at = getattr(obj, "go_live_at", None)
    if go_live_at and go_live_at > timezone.now():
        messages.warning(
            request,
            _(
                "Saved as a draft. The go-live time %(when)s is not scheduled "
                "until you choose “Publish” (or “Schedule to publish”)."
            )
            % {"when": schedule_time(go_live_at)},
        )
    if not hasattr(obj, "expire_at"):
        return
    live, live_expire_at = _live_expiry(obj)
    if not live or obj.expire_at == live_expire_at:
        return
    if obj.expire_at:
        message = _(
            "Saved as a draft. The expiry %(when)s is not scheduled: it is on an unpublished "
            "draft, and the live page %(live)s. Publish or schedule the draft for it to apply."
        )
    else:
        message = _(
            "Saved as a draft. Removing the expiry does not apply yet: the live page "
            "%(live)s. Publish or schedule the draft for it to apply."
        )
    live_text = (
        _("still expires at %(when)s") % {"when": schedule_time(live_expire_at)}
        if live_expire_at
        else _("has no expiry")
    )
    messages.warning(request, message % {"when": schedule_time(obj.expire_at), "live": live_text})


@hooks.register("after_edit_page")
@hooks.register("after_create_page")
def warn_page_schedule_not_in_force(request, page) -> None:
    _warn_if_schedule_not_in_force(request, page)


@hooks.register("after_edit_snippet")
@hooks.register("after_create_snippet")
def warn_snippet_schedule_not_in_force(request, instance) -> None:
    _warn_if_schedule_not_in_force(request, instance)


@hooks.register("construct_homepage_panels")
def add_reviews_due_panel(request, panels) -> None:
    panels.append(ReviewsDuePanel())


@hooks.register("register_rich_text_features", order=100)
def register_public_media_handlers(features) -> None:
    """After Wagtail's own (order 0): images and documents in rich text follow the
    visibility rule, so a restricted one never reaches a public output."""
    features.register_embed_type(PublicImageEmbedHandler)
    features.register_link_type(PublicDocumentLinkHandler)


def _restricted_media_titles(page) -> list[str]:
    """Images and documents the page refers to that readers will not see."""
    titles = []
    for model in (get_image_model(), get_document_model()):
        content_type = ContentType.objects.get_for_model(model)
        refs = ReferenceIndex.get_references_for_object(page).filter(to_content_type=content_type)
        # ``to_object_id`` is text (any model's key): compare as numbers, on every database.
        ids = valid_ids(refs.values_list("to_object_id", flat=True))
        for item in model.objects.filter(pk__in=ids):
            if not visibility.is_public_media(item):
                titles.append(item.title)
    return sorted(titles)


@hooks.register("after_publish_page")
def warn_about_restricted_media(request, page) -> None:
    """Readers never see media from a restricted collection: tell the editor who just
    published a page that uses some, rather than let them find a gap on the site."""
    titles = _restricted_media_titles(page)
    if titles:
        messages.warning(
            request,
            _(
                "Readers will not see %(titles)s: they are in a restricted collection. "
                "Move them to a public collection or choose others."
            )
            % {"titles": ", ".join(f"“{title}”" for title in titles)},
        )
