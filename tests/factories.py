"""Test data: factories (wagtail-factories, factory_boy) for the content tests build.

Tests import their data from here, never from another test module.
"""

from __future__ import annotations

import datetime as dt

import factory
import wagtail_factories

from cms.models import Author, BlogPostAuthor, BlogPostPage


class BlogPostPageFactory(wagtail_factories.PageFactory):
    """A draft blog post under ``parent``; Wagtail gives it a unique slug from its title."""

    class Meta:
        model = BlogPostPage

    title = factory.Sequence(lambda n: f"Post {n}")
    slug = ""
    date = factory.LazyFunction(dt.date.today)
    summary = factory.LazyAttribute(lambda post: f"Summary of {post.title}")
    live = False


def make_post(
    blog, title: str, date: dt.date, author: Author, tags=(), publish: bool = True, **extra
) -> BlogPostPage:
    """A post by ``author`` with ``tags``, saved as a revision and (by default) published
    through it, as an editor would."""
    post = BlogPostPageFactory(
        parent=blog,
        title=title,
        date=date,
        post_authors=[BlogPostAuthor(author=author)],
        **extra,
    )
    post.tags.add(*tags)
    revision = post.save_revision()
    if publish:
        revision.publish()
    post.refresh_from_db()
    return post
