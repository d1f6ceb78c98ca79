"""The changes feed, ``GET /api/changes/``: snapshot, deltas, cursors, errors, caching.

Every change goes through Wagtail's own actions (publish, unpublish, the scheduler's
expiry, a view restriction, delete), as editors make them; after-commit hooks run as they
would in production (``django_capture_on_commit_callbacks(execute=True)``).
"""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from freezegun import freeze_time
from wagtail.models import Page, PageViewRestriction

from cms import visibility
from cms.models import Author
from publishing.models import ChangesHorizon, Delivery, WebhookEvent
from publishing.webhooks import changes
from publishing.webhooks.tasks import prune_delivery_log
from tests.factories import make_post

pytestmark = pytest.mark.django_db

URL = "/api/changes/"


@pytest.fixture
def pan(seed):
    # The seed was loaded inside the test's transaction, whose after-commit hooks never
    # ran: number its events now, as the hook would have.
    changes.stamp()
    return Author.objects.get(slug="dr-pan")


@pytest.fixture
def edit(django_capture_on_commit_callbacks):
    """Run an editor's change with its after-commit hooks (stamping, cache purge)."""

    def run(change, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return change(*args, **kwargs)

    return run


def feed(client, **params) -> dict:
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return response.json()


def sync(client, copy: dict[int, dict], since: str | None = None, **filters) -> str:
    """What a partner does: read until ``has_more`` is false, applying each item."""
    while True:
        params = {**filters, **({"since": since} if since else {})}
        body = feed(client, limit=3, **params)
        for item in body["items"]:
            page = item["page"]
            if item["event"] in ("page.published", "page.updated"):
                copy[page["id"]] = page
            else:
                copy.pop(page["id"], None)
        since = body["next"]
        if not body["has_more"]:
            return since


def public_now() -> dict[int, str]:
    return {page.pk: page.title for page in visibility.public_pages().specific()}


def test_snapshot_lists_every_public_page_once_and_nothing_else(seed, client, edit, pan):
    draft = make_post(seed["blog"], "Draft", dt.date(2024, 1, 1), pan, publish=False)
    copy: dict[int, dict] = {}
    cursor = sync(client, copy)
    assert {pk: page["title"] for pk, page in copy.items()} == public_now()
    assert draft.pk not in copy
    item = feed(client, limit=1)["items"][0]
    assert set(item) == {"id", "cursor", "event", "at", "page"}
    assert set(item["page"]) == {"id", "type", "url", "title"}
    assert item["event"] == "page.published" and item["at"].endswith("Z")
    assert item["page"]["url"].startswith("http")
    # Nothing changed since: the deltas are empty and the cursor stays put.
    assert feed(client, since=cursor) == {"items": [], "next": cursor, "has_more": False}


def test_deltas_follow_publish_update_expiry_privacy_and_delete_in_order(seed, client, edit, pan):
    copy: dict[int, dict] = {}
    cursor = sync(client, copy)

    post = edit(make_post, seed["blog"], "Fatigue", dt.date(2024, 2, 1), pan)
    post.title = "Fatigue, revised"
    edit(post.save_revision().publish)
    body = feed(client, since=cursor)
    assert [(i["event"], i["page"]["id"]) for i in body["items"]] == [
        ("page.published", post.pk),
        ("page.updated", post.pk),
    ]
    assert body["items"][-1]["page"]["title"] == "Fatigue, revised"
    # The id is the one every push of this change carries as ``webhook-id``.
    event = WebhookEvent.objects.get(page_id=post.pk, type="page.updated")
    assert body["items"][-1]["id"] == event.webhook_id == f"msg_{event.event_id.hex}"
    cursor = sync(client, copy, cursor)
    assert {pk: p["title"] for pk, p in copy.items()} == public_now()

    # Expiry, through the scheduler's own command.
    expiring = edit(make_post, seed["blog"], "Expiring", dt.date(2024, 3, 1), pan)
    cursor = sync(client, copy, cursor)
    assert expiring.pk in copy
    Page.objects.filter(pk=expiring.pk).update(expire_at=timezone.now() - timedelta(seconds=1))
    edit(call_command, "publish_scheduled")
    # A section made private: its pages go, through the ancestor.
    section = seed["events"]
    under = {p.pk for p in section.get_descendants(inclusive=True).live()}
    edit(
        PageViewRestriction.objects.create,
        page=section,
        restriction_type=PageViewRestriction.PASSWORD,
        password="x",
    )
    # And a delete.
    edit(Page.objects.get(pk=post.pk).delete)
    body = feed(client, since=cursor, limit=500)
    events = [(i["event"], i["page"]["id"]) for i in body["items"]]
    assert events[0] == ("page.unpublished", expiring.pk)
    assert {pk for kind, pk in events if kind == "page.unpublished"} >= under | {expiring.pk}
    assert events[-2:] == [("page.unpublished", post.pk), ("page.deleted", post.pk)]
    assert all(set(i["page"]) == {"id", "type", "url", "title"} for i in body["items"])
    sync(client, copy, cursor)
    assert {pk: p["title"] for pk, p in copy.items()} == public_now()
    assert under.isdisjoint(copy) and post.pk not in copy and expiring.pk not in copy


def test_events_are_written_without_any_partner_and_pushes_share_their_id(
    seed, client, edit, pan, receivers, make_partner
):
    post = edit(make_post, seed["blog"], "Unsubscribed", dt.date(2024, 1, 1), pan)
    assert WebhookEvent.objects.filter(page_id=post.pk, seq__isnull=False).exists()
    receiver = receivers()
    make_partner(receiver)
    cursor = feed(client, since=sync(client, {}))["next"]
    post.title = "Pushed too"
    edit(post.save_revision().publish)
    item = feed(client, since=cursor)["items"][0]
    assert [r.headers["webhook-id"] for r in receiver.received] == [item["id"]]
    assert Delivery.objects.get().webhook_id == item["id"]


def test_limit_next_and_filters(seed, client, edit, pan):
    cursor = sync(client, {})
    tagged = edit(make_post, seed["blog"], "Tagged", dt.date(2024, 1, 1), pan, tags=["Diet"])
    edit(make_post, seed["blog"], "Plain", dt.date(2024, 1, 2), pan)
    first = feed(client, since=cursor, limit=1)
    assert first["has_more"] is True and len(first["items"]) == 1
    second = feed(client, since=first["next"], limit=1)
    assert second["has_more"] is False
    assert [i["page"]["title"] for i in first["items"] + second["items"]] == ["Tagged", "Plain"]
    assert [i["page"]["id"] for i in feed(client, since=cursor, tag="diet")["items"]] == [tagged.pk]
    assert [i["page"]["id"] for i in feed(client, tag="DIET")["items"]] == [tagged.pk]
    by_type = feed(client, type="cms.BlogIndexPage")["items"]
    assert [i["page"]["id"] for i in by_type] == [seed["blog"].pk]
    assert feed(client, since=cursor, type="cms.EventIndexPage")["items"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"since": "nonsense"},
        {"since": changes.Cursor("d", 10**9).encode()},  # from the future
        {"since": ""},
        {"limit": "0"},
        {"limit": "501"},
        {"limit": "ten"},
        {"type": "wagtailcore.Page"},
        {"type": "auth.User"},
        {"type": "nope"},
        {"tag": ""},
        {"colour": "red"},
    ],
)
def test_bad_parameters_answer_400_in_json(seed, client, params):
    response = client.get(URL, params)
    assert response.status_code == 400
    assert response.json()["status"] == 400 and response.json()["message"]


def test_a_cursor_older_than_the_retention_answers_410(seed, client, edit, pan, settings):
    settings.CHANGES_FEED_RETENTION_DAYS = settings.WEBHOOK_LOG_RETENTION_DAYS = 30
    with freeze_time(timezone.now() - timedelta(days=40)):
        cursor = sync(client, {})
        edit(make_post, seed["blog"], "Long ago", dt.date(2024, 1, 1), pan)
    edit(make_post, seed["blog"], "Recent", dt.date(2024, 1, 2), pan)
    prune_delivery_log()
    assert ChangesHorizon.objects.get().pruned_through > changes.Cursor.decode(cursor).seq
    response = client.get(URL, {"since": cursor})
    assert response.status_code == 410
    assert "without since" in response.json()["message"]
    # Starting again works.
    assert "Recent" in {p["title"] for p in _all(client)}


def _all(client) -> list[dict]:
    copy: dict[int, dict] = {}
    sync(client, copy)
    return list(copy.values())


def test_a_partner_resumes_from_a_week_old_cursor(seed, client, edit, pan):
    copy: dict[int, dict] = {}
    with freeze_time(timezone.now() - timedelta(days=7)):
        cursor = sync(client, copy)
    for n in range(4):
        edit(make_post, seed["blog"], f"While away {n}", dt.date(2024, 1, n + 1), pan)
    prune_delivery_log()  # a week is well inside the retention: nothing the partner needs goes
    sync(client, copy, cursor)
    assert {pk: p["title"] for pk, p in copy.items()} == public_now()


def test_answers_are_shared_and_revalidate_with_an_etag(seed, client, edit, pan):
    first = client.get(URL)
    assert "public" in first["Cache-Control"] and first["ETag"]
    assert client.get(URL, headers={"if-none-match": first["ETag"]}).status_code == 304
    assert client.get(URL)["X-Cache"] == "hit"
    edit(make_post, seed["blog"], "New", dt.date(2024, 1, 1), pan)
    fresh = client.get(URL, {"limit": 500})
    assert "New" in {i["page"]["title"] for i in fresh.json()["items"]}
    assert client.get(URL, headers={"if-none-match": first["ETag"]}).status_code == 200


def test_an_event_committed_out_of_order_is_not_skipped(seed, client, edit, pan):
    """Rows become visible in commit order, not id order: a cursor is over ``seq``."""
    cursor = sync(client, {})
    slow = edit(make_post, seed["blog"], "Slow", dt.date(2024, 1, 1), pan)
    fast = edit(make_post, seed["blog"], "Fast", dt.date(2024, 1, 2), pan)
    # As if "slow" (the lower id) had committed after "fast" was stamped and served.
    WebhookEvent.objects.filter(page_id=slow.pk).update(seq=None)
    seen = feed(client, since=cursor)
    assert [i["page"]["id"] for i in seen["items"]] == [fast.pk]
    changes.stamp()
    later = feed(client, since=seen["next"])
    assert [i["page"]["id"] for i in later["items"]] == [slow.pk]


def test_a_published_item_of_a_page_no_longer_public_is_not_shown(seed, client, edit, pan):
    cursor = sync(client, {})
    post = edit(make_post, seed["blog"], "Soon expired", dt.date(2024, 1, 1), pan)
    # Past expire_at, before the scheduler ran: not public, by the one rule.
    Page.objects.filter(pk=post.pk).update(expire_at=timezone.now() - timedelta(seconds=1))
    assert feed(client, since=cursor)["items"] == []


def test_an_answer_read_while_a_change_awaits_its_notify_step_is_not_kept(seed, pan, client):
    """Between a change's commit and its notify step (after the CDN purge) its event has
    no ``seq``: an answer read then lacks it, so neither we nor a CDN may keep it."""
    # No after-commit hooks run in this test's transaction: the event stays unnumbered.
    post = make_post(seed["blog"], "In flight", dt.date(2026, 11, 1), pan)
    assert changes.in_flight()
    waiting = client.get(URL)
    assert waiting.status_code == 200
    assert "private" in waiting["Cache-Control"]
    assert "X-Cache" not in waiting
    changes.stamp()  # the notify step
    first, second = client.get(URL), client.get(URL)
    assert (first.get("X-Cache"), second.get("X-Cache")) == ("miss", "hit")
    assert post.pk in {item["page"]["id"] for item in second.json()["items"]}
