"""Admin views of the editorial calendar, its private ICS feed, and releases."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView
from wagtail.admin.admin_url_finder import AdminURLFinder
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.models import Page, Revision
from wagtail.permissions import policy_registry

from cms.models import BlogIndexPage, EventIndexPage
from cms.panels import ZonedDateTimeField
from publishing.models import CalendarFeedToken, Release
from publishing.scheduler.calendar import (
    KINDS,
    authors,
    calendar_entries,
    ics_feed,
    in_feed_window,
    month_grid,
    week_days,
)
from publishing.scheduler.engine import scheduled_models
from publishing.scheduler.releases import (
    ReleaseError,
    render_at_instant,
    schedule_release,
    undo_release,
)
from publishing.scheduler.views import site_time, site_zone


class AdminPage(WagtailAdminTemplateMixin, TemplateView):
    """A plain admin page whose header and breadcrumbs name it."""

    def get_breadcrumbs_items(self) -> list[dict]:
        return [*self.breadcrumbs_items, {"url": "", "label": self.get_page_title()}]


# --- calendar ---------------------------------------------------------------------------


class CalendarFilterForm(forms.Form):
    view = forms.ChoiceField(
        label=_("View"),
        choices=[("month", _("Month")), ("week", _("Week"))],
        required=False,
    )
    date = forms.DateField(label=_("Showing"), required=False, widget=forms.DateInput(
        attrs={"type": "date"}
    ))  # fmt: skip
    kind = forms.MultipleChoiceField(
        label=_("Type"),
        choices=list(KINDS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    author = forms.TypedChoiceField(label=_("Author"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["author"].choices = [("", _("Anyone"))] + [
            (user.pk, user.get_full_name() or user.get_username()) for user in authors()
        ]


class CalendarView(AdminPage):
    """Month or week view of everything scheduled, filterable by type and author."""

    page_title = _("Editorial calendar")
    header_icon = "calendar"
    template_name = "publishing/calendar.html"

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        form = CalendarFilterForm(self.request.GET or None)
        today = timezone.localtime(timezone.now(), site_zone()).date()
        view, day, kinds, author = "month", today, None, None
        if form.is_bound and form.is_valid():
            view = form.cleaned_data["view"] or "month"
            day = form.cleaned_data["date"] or today
            kinds = form.cleaned_data["kind"] or None
            author = form.cleaned_data["author"]
        entries = calendar_entries(self.request.user, kinds, author)
        query = self.request.GET.copy()
        if view == "week":
            days = week_days(day, entries)
            weeks = [days]
            title = _("Week of %(date)s") % {"date": days[0].date.isoformat()}
            step = dt.timedelta(days=7)
            previous, following = day - step, day + step
        else:
            weeks = month_grid(day.year, day.month, entries)
            title = day.strftime("%B %Y")
            first = day.replace(day=1)
            previous = (first - dt.timedelta(days=1)).replace(day=1)
            following = (first + dt.timedelta(days=32)).replace(day=1)
        shown = {d.date for week in weeks for d in week}

        def link(target: dt.date) -> str:
            query["date"] = target.isoformat()
            query["view"] = view
            return "?" + query.urlencode()

        context.update(
            form=form,
            view=view,
            weeks=weeks,
            title=title,
            today=today,
            previous_url=link(previous),
            next_url=link(following),
            entries=[entry for entry in entries if entry.day in shown],
            weekday_names=[_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")],
            site_time_zone=site_zone().key,
            feed_token_url=reverse("publishing_calendar_feed_token"),
            has_feed=CalendarFeedToken.objects.filter(user=self.request.user).exists(),
        )
        return context


@method_decorator(never_cache, name="dispatch")
class CalendarFeedTokenView(AdminPage):
    """Create, replace or revoke the current user's private calendar-feed address."""

    page_title = _("Calendar subscription")
    header_icon = "calendar"
    template_name = "publishing/calendar_feed_token.html"

    def post(self, request: HttpRequest) -> HttpResponse:
        if request.POST.get("action") == "revoke":
            CalendarFeedToken.objects.filter(user=request.user).delete()
            messages.success(request, _("Your calendar feed address no longer works."))
            return redirect("publishing_calendar_feed_token")
        token = CalendarFeedToken.issue(request.user)
        url = request.build_absolute_uri(reverse("publishing_calendar_ics", args=[token]))
        return self.render_to_response(self.get_context_data(feed_url=url))

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        context["has_feed"] = CalendarFeedToken.objects.filter(user=self.request.user).exists()
        context["calendar_url"] = reverse("publishing_calendar")
        return context


@never_cache
def calendar_ics(request: HttpRequest, token: str) -> HttpResponse:
    """The private ICS feed: public address, opened by the secret in it, never cached."""
    user = CalendarFeedToken.user_for(token)
    if user is None or not user.has_perm("wagtailadmin.access_admin"):
        return JsonResponse({"error": "No calendar feed at this address."}, status=404)
    now = timezone.now()
    entries = [entry for entry in calendar_entries(user) if in_feed_window(entry, now)]
    body = ics_feed(entries, request.build_absolute_uri("/"))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = 'inline; filename="editorial-calendar.ics"'
    response["X-Robots-Tag"] = "noindex"
    return response


# --- releases ---------------------------------------------------------------------------


def _can_publish(user, obj) -> bool:
    if isinstance(obj, Page):
        return obj.permissions_for_user(user).can_publish()
    return policy_registry.get(obj).user_has_permission(user, "publish")


def releasable_revisions(user) -> list[Revision]:
    """The latest unpublished revision of each page or snippet ``user`` may publish."""
    found = []
    for model in scheduled_models():
        for obj in model._default_manager.filter(
            has_unpublished_changes=True, latest_revision__isnull=False
        ).select_related("latest_revision"):
            if _can_publish(user, obj.specific if isinstance(obj, Page) else obj):
                found.append(obj.latest_revision)
    return found


class RevisionChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Revision) -> str:
        model = obj.content_type.model_class()
        kind = str(model._meta.verbose_name).capitalize() if model else "?"
        return f"{obj.object_str} ({kind}, {site_time(obj.created_at)})"


class ReleaseForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=255)
    go_live_at = ZonedDateTimeField(
        label=_("Goes live at"),
        help_text=_("In the site's zone, e.g. 2027-03-01 09:00:00."),
    )
    revisions = RevisionChoiceField(
        label=_("Changes in this release"),
        queryset=Revision.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Drafts of pages and snippets (e.g. promotions) not yet published."),
    )

    def __init__(self, *args, user=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = releasable_revisions(user)
        self.fields["revisions"].queryset = Revision.objects.filter(
            pk__in=[r.pk for r in choices]
        ).select_related("content_type")


class ReleaseIndexView(AdminPage):
    page_title = _("Releases")
    header_icon = "calendar-check"
    template_name = "publishing/release_index.html"

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        releases = list(Release.objects.all().prefetch_related("items"))
        for release in releases:
            release.when_local = site_time(release.go_live_at)
            release.status_label = Release.Status(release.status).label
        context["releases"] = releases
        context["add_url"] = reverse("publishing_release_add")
        return context


class ReleaseCreateView(AdminPage):
    page_title = _("New release")
    header_icon = "calendar-check"
    template_name = "publishing/release_form.html"

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", ReleaseForm(user=self.request.user))
        context["site_time_zone"] = site_zone().key
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ReleaseForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                release = schedule_release(
                    form.cleaned_data["name"],
                    form.cleaned_data["go_live_at"],
                    form.cleaned_data["revisions"],
                    request.user,
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(
                    request,
                    _("Release “%(name)s” scheduled for %(when)s.")
                    % {"name": release.name, "when": site_time(release.go_live_at)},
                )
                return redirect("publishing_release_detail", release.pk)
        return self.render_to_response(self.get_context_data(form=form))


#: The public addresses a rehearsal offers (any reader page or feed can be asked for).
def preview_targets() -> list[tuple[str, str]]:
    targets = [(str(_("Home page")), "/")]
    for model, label in ((BlogIndexPage, _("Blog")), (EventIndexPage, _("Events"))):
        page = model.objects.live().first()
        if page is not None and page.url:
            targets.append((str(label), page.url))
    targets.append((str(_("Blog RSS feed")), reverse("feeds:blog", kwargs={"fmt": "rss"})))
    return targets


class ReleaseDetailView(AdminPage):
    header_icon = "calendar-check"
    template_name = "publishing/release_detail.html"

    def get_page_title(self) -> str:
        return str(_("Release: %(name)s")) % {"name": self.release.name}

    def dispatch(self, request, *args, **kwargs):
        self.release = get_object_or_404(Release, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        release = self.release
        finder = AdminURLFinder(self.request.user)
        items = []
        for item in release.items.select_related("revision"):
            obj = item.revision.content_object
            items.append(
                {
                    "title": item.revision.object_str,
                    "edit_url": finder.get_edit_url(obj) if obj is not None else None,
                    "waiting": item.revision.approved_go_live_at is not None,
                    "live": getattr(obj, "live_revision_id", None) == item.revision_id,
                }
            )
        preview = reverse("publishing_release_preview", args=[release.pk])
        context.update(
            release=release,
            status=release.status,
            status_label=Release.Status(release.status).label,
            when_local=site_time(release.go_live_at),
            undone_local=site_time(release.undone_at),
            items=items,
            targets=[(label, f"{preview}?path={path}") for label, path in preview_targets()],
            undo_url=reverse("publishing_release_undo", args=[release.pk]),
            index_url=reverse("publishing_releases"),
        )
        return context


PREVIEW_BANNER = (
    '<div role="note" style="position:sticky;top:0;z-index:1000;background:#fef3c7;'
    'color:#111;border-bottom:3px solid #92400e;padding:.5rem 1rem;font:16px/1.4 sans-serif">'
    "{text}</div>"
)


@never_cache
def release_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """A public address rendered as it will be at the release instant; never cached."""
    release = get_object_or_404(Release, pk=pk)
    path = request.GET.get("path", "/")
    if not path.startswith("/") or path.startswith("//") or len(path) > 2000:
        return JsonResponse({"error": "path must be a site path starting with /"}, status=400)
    try:
        response = render_at_instant(release, path, request.get_host())
    except ReleaseError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    content_type = response.get("Content-Type", "")
    if response.status_code == 200 and content_type.startswith("text/html"):
        text = str(
            _("Rehearsal of release “%(name)s”: the site as it will be at %(when)s. Not public.")
        ) % {"name": release.name, "when": site_time(release.go_live_at)}
        banner = PREVIEW_BANNER.format(text=escape(text))
        body = response.content.decode()
        body = body.replace("<body", "<body data-release-preview", 1)
        at = body.find(">", body.find("<body")) + 1
        response.content = (body[:at] + banner + body[at:]).encode()
    # Reader pages run no script; the rehearsal neither. Framed only by the admin.
    response["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'none'; img-src 'self' data:; "
        "style-src 'self' 'unsafe-inline'; frame-ancestors 'self'"
    )
    response["X-Robots-Tag"] = "noindex"
    response["Cache-Control"] = "private, no-store"
    return response


class ReleaseUndoView(View):
    """POST: restore what was live before the release went live, once."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        release = get_object_or_404(Release, pk=pk)
        for item in release.items.select_related("revision"):
            obj = item.revision.content_object
            if obj is not None and not _can_publish(request.user, obj):
                raise PermissionDenied
        try:
            done = undo_release(release, request.user)
        except ReleaseError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("Release “%(name)s” undone: %(done)s.")
                % {"name": release.name, "done": "; ".join(done) or _("nothing to restore")},
            )
        return redirect("publishing_release_detail", release.pk)
