"""Fixtures shared by the tests of outputs that must never show hidden content."""

import datetime as dt

import pytest
from django.utils import timezone
from wagtail.models import PageViewRestriction

from cms.models import Author, BlogIndexPage, BlogPostPage
from tests.factories import make_post

# Every title a hidden page (or a hidden draft of a live page) carries.
HIDDEN = {
    "Hidden draft",
    "Hidden private",
    "Hidden login",
    "Hidden expired",
    "Hidden unpublished",
    "Hidden under a private section",
    "Hidden draft title of a live page",
}


@pytest.fixture
def hidden_pages(seed):
    """One page of each kind that must never reach an anonymous client."""
    blog = seed["blog"]
    author = Author.objects.first()
    draft = make_post(blog, "Hidden draft", dt.date(2024, 1, 1), author, publish=False)
    private = make_post(blog, "Hidden private", dt.date(2024, 1, 2), author)
    PageViewRestriction.objects.create(page=private, restriction_type="password", password="pw")
    login_only = make_post(blog, "Hidden login", dt.date(2024, 1, 3), author)
    PageViewRestriction.objects.create(page=login_only, restriction_type="login")
    expired = make_post(blog, "Hidden expired", dt.date(2024, 1, 4), author)
    BlogPostPage.objects.filter(pk=expired.pk).update(
        expire_at=timezone.now() - dt.timedelta(minutes=1)
    )
    unpublished = make_post(blog, "Hidden unpublished", dt.date(2024, 1, 5), author)
    unpublished.unpublish()
    # A live page with no restriction of its own, under a restricted section.
    section = seed["home"].add_child(instance=BlogIndexPage(title="Staff section"))
    PageViewRestriction.objects.create(page=section, restriction_type="login")
    under_private = make_post(
        section, "Hidden under a private section", dt.date(2024, 1, 6), author
    )
    # A live page with an unpublished draft revision: the draft text must not leak.
    live = seed["post"]
    live.title = "Hidden draft title of a live page"
    live.save_revision()
    return {
        "draft": draft,
        "private": private,
        "login": login_only,
        "expired": expired,
        "unpublished": unpublished,
        "under_private": under_private,
    }
