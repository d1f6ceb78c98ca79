"""Invalidate stored public responses when media or media privacy change.

Connected from ``CmsConfig.ready()``. Pages, page view restrictions, authors and sites
are the publishing pipeline's (``publishing.pipeline``): it invalidates this cache first
after commit, then purges the CDN, then notifies partners. What is left here has no
partner-facing side: snippets' publish and unpublish (promotions on the home page),
images, documents, collection view restrictions and the reader site settings (contact
block, notices, menu). One
generation bump per transaction (``invalidate_on_commit``), however many rows change.
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import CollectionViewRestriction
from wagtail.signals import published, unpublished

from .response_cache import invalidate_on_commit


def _changed(**kwargs) -> None:
    invalidate_on_commit()


def connect() -> None:
    from cms.models import NavigationItem, ReaderTrustSettings

    # Wagtail sends these for snippets (DraftStateMixin) only; pages have their own.
    for signal in (published, unpublished):
        signal.connect(_changed, dispatch_uid=f"response_cache:snippet:{id(signal)}")
    for model in (
        CollectionViewRestriction,
        # Every reader page shows the contact block, notices and menu (site settings).
        ReaderTrustSettings,
        NavigationItem,
        get_image_model(),
        get_document_model(),
    ):
        for signal in (post_save, post_delete):
            signal.connect(
                _changed,
                sender=model,
                dispatch_uid=f"response_cache:{model.__name__}:{id(signal)}",
            )
