"""A partner's typed client, generated from ``/api/openapi.json`` by a real generator.

``openapi-python-client`` (pinned in requirements-dev.txt) turns the served document into
a Python package; the tests use only that package, as a partner would: list pages, read
one, evaluate the screener, and keep a copy in step with the changes feed across a
publish, an update, an expiry and a delete, until the copy equals what the API shows.
Requests go through httpx's WSGI transport into this process's Django, so they share the
test's database (and its transaction where there is one).
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from freezegun import freeze_time
from wagtail.models import Page

from cms.models import Author
from cms.openapi import openapi_document
from screening.models import ScreenerPage
from tests.factories import make_post
from tests.services import skip_or_fail

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The client package, generated from the document the site serves (``/api/openapi.json``
    answers with exactly this: tests/partner/test_openapi.py)."""
    document = openapi_document()
    work = tmp_path_factory.mktemp("partner")
    (work / "openapi.json").write_text(json.dumps(document))
    subprocess.run(
        [
            str(BIN / "openapi-python-client"),
            "generate",
            "--path",
            str(work / "openapi.json"),
            "--output-path",
            str(work / "cms_partner_client"),
            "--meta",
            "none",
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"},
    )
    sys.path.insert(0, str(work))
    try:
        yield importlib.import_module("cms_partner_client")
    finally:
        sys.path.remove(str(work))
        for name in [n for n in sys.modules if n.startswith("cms_partner_client")]:
            del sys.modules[name]


@pytest.fixture
def api(generated):
    """A generated ``Client`` talking to this process through WSGI."""
    # Django's own test client does the same: a request's end must not close the test's
    # connection (that would end its transaction).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    transport = httpx.WSGITransport(app=get_wsgi_application())
    client = generated.Client(
        base_url="http://testserver",
        httpx_args={"transport": transport},
        raise_on_unexpected_status=True,
    )
    try:
        yield client
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def module(generated, name: str):
    return importlib.import_module(f"{generated.__name__}.{name}")


class Partner:
    """What a partner keeps: a copy of the public pages (id → title and URL) and a cursor."""

    def __init__(self, generated, api) -> None:
        self.changes_list = module(generated, "api.changes.changes_list")
        self.models = module(generated, "models")
        self.api = api
        self.copy: dict[int, tuple[str, str]] = {}
        self.cursor: str | None = None

    def sync(self) -> list[str]:
        """Read until ``has_more`` is false; return the events applied, in order."""
        applied = []
        while True:
            kwargs = {"since": self.cursor} if self.cursor else {}
            page = self.changes_list.sync(client=self.api, limit=4, **kwargs)
            assert isinstance(page, self.models.ChangesPage), page
            for change in page.items:
                assert isinstance(change, self.models.Change)
                if change.event in (
                    self.models.ChangeEvent.PAGE_PUBLISHED,
                    self.models.ChangeEvent.PAGE_UPDATED,
                ):
                    self.copy[change.page.id] = (change.page.title, change.page.url)
                else:
                    self.copy.pop(change.page.id, None)
                applied.append(change.event.value)
            self.cursor = page.next_
            if not page.has_more:
                return applied


def what_the_api_shows(generated, api) -> dict[int, tuple[str, str]]:
    """Every page in the pages API (v3), with its title and URL, through the client."""
    pages_list = module(generated, "api.pages.pages_list")
    pages_detail = module(generated, "api.pages.pages_detail")
    shown: dict[int, tuple[str, str]] = {}
    offset = 0
    while True:
        listing = pages_list.sync(client=api, limit=20, offset=offset)
        for item in listing.items:
            detail = pages_detail.sync(item.id, client=api)
            shown[item.id] = (detail.title, detail.meta.html_url)
        offset += len(listing.items)
        if not listing.items or offset >= listing.count:
            return shown


@pytest.fixture
def editor(django_capture_on_commit_callbacks):
    def run(change, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return change(*args, **kwargs)

    return run


@pytest.mark.django_db
def test_a_partner_lists_pages_reads_one_and_evaluates_the_screener(seed, generated, api):
    pages_list = module(generated, "api.pages.pages_list")
    pages_detail = module(generated, "api.pages.pages_detail")
    evaluate = module(generated, "api.screening.screening_evaluate")
    models = module(generated, "models")

    listing = pages_list.sync(client=api, limit=50)
    assert listing.count == len(listing.items) > 3
    post = seed["post"]
    detail = pages_detail.sync(post.pk, client=api)
    assert isinstance(detail, models.BlogPostPageSchema)
    assert detail.title == post.title and detail.meta.html_url.endswith(post.url)

    screener = ScreenerPage.objects.get()
    outcome = evaluate.sync(screener.pk, client=api, body=models.ScreeningAnswers(["none"]))
    assert isinstance(outcome, models.ScreeningOutcome)
    assert outcome.outcome.value == "none" and outcome.message_html
    wrong = evaluate.sync(screener.pk, client=api, body=models.ScreeningAnswers(["no-such"]))
    assert isinstance(wrong, models.ScreeningError) and wrong.unknown_answers == ["no-such"]


@pytest.mark.django_db
def test_a_partner_keeps_its_copy_in_step_and_resumes_after_a_week(seed, generated, api, editor):
    from publishing.webhooks import changes

    changes.stamp()  # the seed's after-commit hooks did not run in this transaction
    pan = Author.objects.get(slug="dr-pan")
    partner = Partner(generated, api)
    assert set(partner.sync()) == {"page.published"}  # the snapshot
    assert partner.copy == what_the_api_shows(generated, api)

    post = editor(make_post, seed["blog"], "Fatigue", dt.date(2024, 2, 1), pan)
    expiring = editor(make_post, seed["blog"], "Expiring", dt.date(2024, 3, 1), pan)
    assert partner.sync() == ["page.published", "page.published"]
    post.title = "Fatigue, revised"
    editor(post.save_revision().publish)
    Page.objects.filter(pk=expiring.pk).update(expire_at=timezone.now() - timedelta(seconds=1))
    editor(call_command, "publish_scheduled")
    editor(Page.objects.get(pk=seed["post"].pk).delete)
    assert partner.sync() == [
        "page.updated",
        "page.unpublished",
        "page.unpublished",
        "page.deleted",
    ]
    assert partner.copy == what_the_api_shows(generated, api)
    assert partner.copy[post.pk][0] == "Fatigue, revised"

    # The partner goes away for a week; editors carry on; it resumes from its cursor.
    with freeze_time(timezone.now() + timedelta(days=7), tick=True):
        editor(make_post, seed["blog"], "While away", dt.date(2024, 4, 1), pan)
        editor(Page.objects.get(pk=post.pk).delete)
        call_command("publish_scheduled")
        assert partner.sync() == ["page.published", "page.unpublished", "page.deleted"]
        assert partner.copy == what_the_api_shows(generated, api)


@pytest.mark.django_db(transaction=True)
def test_a_partner_misses_nothing_when_publishes_commit_out_of_order(seed, generated, api):
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL (DATABASE_URL) for interleaved transactions")
    pan = Author.objects.get(slug="dr-pan")
    slow = make_post(seed["blog"], "Slow", dt.date(2024, 1, 1), pan, publish=False)
    fast = make_post(seed["blog"], "Fast", dt.date(2024, 1, 2), pan, publish=False)
    partner = Partner(generated, api)
    partner.sync()
    inserted, go_on = threading.Event(), threading.Event()

    def publish_slowly() -> None:
        try:
            with transaction.atomic():
                slow.get_latest_revision().publish()
                inserted.set()
                go_on.wait(30)
        finally:
            inserted.set()
            connection.close()

    thread = threading.Thread(target=publish_slowly)
    thread.start()
    try:
        assert inserted.wait(30)
        with transaction.atomic():
            fast.get_latest_revision().publish()
        partner.sync()  # sees "fast", and gets a cursor past it
        assert fast.pk in partner.copy and slow.pk not in partner.copy
    finally:
        go_on.set()
        thread.join(30)
    partner.sync()
    assert slow.pk in partner.copy
    assert partner.copy == what_the_api_shows(generated, api)
