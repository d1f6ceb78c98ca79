"""Releases: schedule a set of revisions for one instant, rehearse it, undo it once.

* Scheduling goes through Wagtail's own ``revision.publish()`` with the release's instant
  as ``go_live_at``: that sets ``approved_go_live_at``, and the one scheduler
  (:mod:`publishing.scheduler.engine`) publishes each revision at the instant, exactly
  once, with every signal, audit entry and partner notification of a publish.
* Rehearsal (:func:`render_at_instant`) applies the release's revisions and the expiries
  due by the instant inside a transaction that is always rolled back, renders one public
  address there with the public's view (an anonymous request, bypassing the response
  cache and the feed cache), and returns the body. Nothing is committed, nothing cached;
  ``transaction.on_commit`` callbacks (cache purges, webhooks) are discarded with it.
* Undo (:func:`undo_release`) restores, for each object, the revision that was live just
  before the release published it (from the audit log, which records what really went
  live, even if someone published between scheduling and the instant), or unpublishes
  objects the release made live for the first time. A conditional update marks the
  release undone, so two clicks, two tabs or two processes undo it once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.actions.unpublish import UnpublishAction
from wagtail.actions.unpublish_page import UnpublishPageAction
from wagtail.log_actions import log
from wagtail.log_actions import registry as log_registry
from wagtail.models import Page, Revision

from cms.models.base import PUBLISH_LOG_ACTIONS
from cms.visibility import request_memo
from publishing.models import Release, ReleaseItem
from publishing.scheduler.engine import scheduled_models
from publishing.syndication.feeds import (
    CONTENT_TYPES,
    FeedKey,
    FeedNotFound,
    build_feed,
    render_feed,
)

logger = logging.getLogger(__name__)

UNDO_ACTION = "publishing.release.undo"
SCHEDULE_ACTION = "publishing.release.schedule"


class ReleaseError(Exception):
    """A release action an editor asked for cannot be done; the message says why."""


def _object_of(revision: Revision) -> models.Model:
    obj = revision.content_object
    return obj.specific if isinstance(obj, Page) else obj


def schedule_release(
    name: str, go_live_at: dt.datetime, revisions: Iterable[Revision], user
) -> Release:
    """Create a release and schedule each revision for ``go_live_at`` through Wagtail."""
    revisions = list(revisions)
    if go_live_at <= timezone.now():
        raise ValidationError({"go_live_at": _("A release must go live in the future.")})
    if not revisions:
        raise ValidationError({"revisions": _("Choose at least one change to release.")})
    objects = {(r.base_content_type_id, r.object_id) for r in revisions}
    if len(objects) != len(revisions):
        raise ValidationError(
            {"revisions": _("A release can hold one change per page or snippet.")}
        )
    with transaction.atomic():
        release = Release.objects.create(name=name, go_live_at=go_live_at, created_by=user)
        for revision in revisions:
            ReleaseItem.objects.create(release=release, revision=revision)
            # The revision's own go-live becomes the release's instant; Wagtail's publish
            # then schedules it (approved_go_live_at) instead of publishing now.
            revision.content["go_live_at"] = go_live_at.isoformat()
            revision.save(update_fields=["content"])
            revision.publish(user=user)
        log(instance=release, action=SCHEDULE_ACTION, user=user)
    return release


# --- rehearsal -------------------------------------------------------------------------


def _apply(release: Release) -> None:
    """Make the release's revisions the live content, and expire what is due by then."""
    for item in release.items.select_related("revision"):
        obj = item.revision.as_object()
        obj.live = True
        obj.has_unpublished_changes = False
        obj.live_revision = item.revision
        obj.go_live_at = None
        if obj.first_published_at is None:
            obj.first_published_at = release.go_live_at
        obj.last_published_at = release.go_live_at
        if isinstance(obj, Page):
            obj.save(clean=False)
        else:
            obj.save()
    for model in scheduled_models():
        model._default_manager.filter(live=True, expire_at__lte=release.go_live_at).update(
            live=False
        )


def _public_request(path: str, host: str) -> HttpRequest:
    request = RequestFactory().get(path, HTTP_HOST=host)
    request.user = AnonymousUser()
    request.session = {}
    return request


def render_at_instant(release: Release, path: str, host: str) -> HttpResponse:
    """The public answer for ``path`` as it will be at the release instant; never kept.

    Only reader pages and feeds (what a reader or partner sees) can be rehearsed.
    """
    try:
        match = resolve(path.split("?", 1)[0])
    except Resolver404 as exc:
        raise ReleaseError(_("That address is not on the public site.")) from exc
    module = getattr(match.func, "__module__", "")
    if not (module.startswith("wagtail.views") or module.startswith("publishing.syndication")):
        raise ReleaseError(_("Only public pages and feeds can be previewed."))
    with transaction.atomic():
        try:
            _apply(release)
            with request_memo():
                response = _render(match, _public_request(path, host))
        finally:
            transaction.set_rollback(True)
    return response


def _render(match, request: HttpRequest) -> HttpResponse:
    if match.func.__module__.startswith("publishing.syndication"):
        # The feed cache is shared with readers: build and render the feed directly.
        kwargs = match.kwargs
        key = FeedKey(kwargs["kind"], kwargs.get("slug", ""))
        try:
            body = render_feed(build_feed(key, 1), kwargs["fmt"], request)
        except FeedNotFound as exc:
            raise ReleaseError(str(exc)) from exc
        return HttpResponse(body, content_type=CONTENT_TYPES[kwargs["fmt"]])
    response = match.func(request, *match.args, **match.kwargs)
    if hasattr(response, "render"):
        response.render()
    return response


# --- undo ------------------------------------------------------------------------------


def _previous_state(obj: models.Model, revision: Revision) -> Revision | None:
    """The revision live just before ``revision`` went live, or None if nothing was."""
    entries = log_registry.get_logs_for_instance(obj)
    went_live = (
        entries.filter(action__in=PUBLISH_LOG_ACTIONS, revision_id=revision.pk)
        .order_by("-timestamp", "-pk")
        .first()
    )
    if went_live is None:
        raise ReleaseError(
            _("“%(title)s” has not gone live with this release.") % {"title": str(obj)}
        )
    before = (
        entries.filter(
            action__in=[*PUBLISH_LOG_ACTIONS, "wagtail.unpublish", "wagtail.unpublish.scheduled"],
            timestamp__lt=went_live.timestamp,
        )
        .order_by("-timestamp", "-pk")
        .first()
    )
    if before is None or before.action not in PUBLISH_LOG_ACTIONS or before.revision_id is None:
        return None
    return Revision.objects.filter(pk=before.revision_id).first()


def undo_release(release: Release, user) -> list[str]:
    """Restore what was live before the release, once; returns what was done, per item."""
    if release.status != Release.Status.LIVE:
        raise ReleaseError(_("Only a release that has gone live can be undone."))
    done: list[str] = []
    with transaction.atomic():
        claimed = Release.objects.filter(pk=release.pk, undone_at__isnull=True).update(
            undone_at=timezone.now(), undone_by=user
        )
        if not claimed:
            raise ReleaseError(_("This release has already been undone."))
        for item in release.items.select_related("revision"):
            obj = _object_of(item.revision)
            previous = _previous_state(obj, item.revision)
            if previous is not None:
                previous.publish(user=user, previous_revision=previous, skip_permission_checks=True)
                done.append(str(_("“%(title)s” restored")) % {"title": str(obj)})
            elif obj.live:
                action = UnpublishPageAction if isinstance(obj, Page) else UnpublishAction
                action(obj, user=user).execute(skip_permission_checks=True)
                done.append(str(_("“%(title)s” unpublished")) % {"title": str(obj)})
        release.refresh_from_db()
        log(instance=release, action=UNDO_ACTION, user=user, data={"items": done})
    logger.info("release %s undone by %s: %s", release.pk, user, done)
    return done
