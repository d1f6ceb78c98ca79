"""The URLs an uploaded file is served at, to purge from the CDN when its privacy changes.

``cms.media`` serves a file only while its image or document is public; a CDN in front
keeps what it was given until told. An image is served at its original file and its
renditions' files; a document at its file and at Wagtail's download view.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Model
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import Site

from publishing.pipeline.change import origin


def _roots() -> set[str]:
    return {origin(site.root_url) for site in Site.objects.all()}


def _absolute(paths: Iterable[str]) -> set[str]:
    paths = {path for path in paths if path}
    roots = _roots() if any(path.startswith("/") for path in paths) else set()
    return {path for path in paths if not path.startswith("/")} | {
        root + path for path in paths if path.startswith("/") for root in roots
    }


def _paths(item: Model) -> list[str]:
    if isinstance(item, get_document_model()):
        return [item.url, item.file.url] if item.file else [item.url]
    paths = [item.file.url] if item.file else []
    return paths + [r.file.url for r in item.renditions.all() if r.file]


def urls_of_media(items: Iterable[Model]) -> set[str]:
    """Every absolute URL the images and documents ``items`` are served at."""
    return _absolute(path for item in items for path in _paths(item))


def urls_of_collections(collection_ids: Iterable[int]) -> set[str]:
    """Every absolute URL a file in the collections is served at."""
    ids = list(collection_ids)
    images = get_image_model().objects.filter(collection_id__in=ids).prefetch_related("renditions")
    documents = get_document_model().objects.filter(collection_id__in=ids)
    return urls_of_media([*images, *documents])
