"""The site's page models and snippets, one module per area."""

from .base import ExpiryAwareMixin, HealthReviewMixin, SitePageMixin
from .blog import BlogIndexPage, BlogPostAuthor, BlogPostPage, BlogPostReference, BlogPostTag
from .events import EventIndexPage, EventResource, EventResourcesPage, EventSession
from .home import HomePage, HomePagePromo, NewsEventsPage
from .site_settings import NavigationItem, ReaderTrustSettings
from .snippets import Author, Promo

__all__ = [
    "Author",
    "BlogIndexPage",
    "BlogPostAuthor",
    "BlogPostPage",
    "BlogPostReference",
    "BlogPostTag",
    "EventIndexPage",
    "EventResource",
    "EventResourcesPage",
    "EventSession",
    "ExpiryAwareMixin",
    "HealthReviewMixin",
    "HomePage",
    "HomePagePromo",
    "NavigationItem",
    "NewsEventsPage",
    "Promo",
    "ReaderTrustSettings",
    "SitePageMixin",
]
