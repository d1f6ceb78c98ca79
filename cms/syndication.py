"""What each page type is to syndication, declared once on the page class.

A page class says ``syndication = Syndication(...)``: which feed it belongs to (as an
item, or as the listing page the feed mirrors) and which content type partners filter
webhooks on. Feeds, WebSub topics, feed discovery links and webhooks (all in
``publishing``) read these facts instead of naming page classes; ``cms`` itself never
needs to know what publishing does with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

#: The partner content type of any page that declares none.
OTHER_PAGES = ("pages", _("Other pages"))


class Role(Enum):
    ITEM = "item"  # an entry of the feed (a blog post)
    LISTING = "listing"  # the page whose listing the feed mirrors (the blog index)


@dataclass(frozen=True)
class Syndication:
    #: The feed kind (``FeedKey.kind``: "blog", "events").
    feed: str
    role: Role
    #: What partners choose in their filter, and how the admin names it.
    partner_type: str
    partner_label: str | Promise
    #: Items are also in per-tag and per-author feeds of ``feed``.
    tag_and_author_feeds: bool = False
    #: An item's related objects its feed content reads, fetched once per feed page.
    prefetch: tuple[str, ...] = ()
    #: A listing's feed description; ``%(title)s`` is the listing's title.
    description: str | Promise = ""


def syndication_of(page_or_model: object) -> Syndication | None:
    """The facts a page (or page class) declares; None for pages in no feed."""
    return getattr(page_or_model, "syndication", None)


def syndicated_models() -> list[type]:
    """Every page model that declares its syndication facts."""
    from wagtail.models import get_page_models

    return [model for model in get_page_models() if syndication_of(model) is not None]


def models_for(feed: str, role: Role) -> list[type]:
    found = syndicated_models()
    return [m for m in found if syndication_of(m).feed == feed and syndication_of(m).role == role]


def partner_types() -> list[tuple[str, str | Promise]]:
    """The content types partners can choose, in declaration order, "other pages" last."""
    types: dict[str, str | Promise] = {}
    for model in syndicated_models():
        facts = syndication_of(model)
        types.setdefault(facts.partner_type, facts.partner_label)
    return [*types.items(), OTHER_PAGES]


def partner_type_of(model: type | None) -> str:
    facts = syndication_of(model)
    return facts.partner_type if facts is not None else OTHER_PAGES[0]
