"""Wagtail's background work (django-tasks) sent to Celery: once per transaction, after commit."""

from __future__ import annotations

import pytest
from django.db import transaction
from wagtail.tasks import update_reference_index_task

from cms import background

pytestmark = pytest.mark.django_db

TASK = "wagtail.tasks.update_reference_index_task"


def test_a_transactions_background_calls_go_as_one_message_after_commit(
    monkeypatch, django_capture_on_commit_callbacks
):
    """A burst of scheduled publishes saves many pages in one transaction: their index
    updates leave as one message when it commits, none if it rolls back."""
    sent: list[list] = []
    monkeypatch.setattr(background, "_send", sent.append)
    backend = background.CeleryBackend("default", {})
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            backend.enqueue(update_reference_index_task, ["cms", "author", 9], {})
            raise RuntimeError("rolled back")
    assert sent == []
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            for pk in (1, 2, 3):
                backend.enqueue(update_reference_index_task, ["cms", "author", pk], {})
            assert sent == []
    assert sent == [[[TASK, ["cms", "author", pk], {}] for pk in (1, 2, 3)]]


def test_one_failing_call_does_not_drop_the_others(seed):
    """The batch task runs every call; one that cannot run is logged, the rest still run."""
    from wagtail.models import ReferenceIndex

    from cms.models import BlogPostPage
    from cms.tasks import run_background_tasks

    post = BlogPostPage.objects.get()
    ReferenceIndex.objects.all().delete()
    run_background_tasks(
        [["os.system", ["true"], {}], [TASK, ["cms", "blogpostpage", post.pk], {}]]
    )
    assert ReferenceIndex.objects.filter(object_id=str(post.pk)).exists()
