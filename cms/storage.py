"""Uploaded files on S3-compatible object storage (django-storages), still served by the app.

Why the bucket stays private and file URLs stay ``/media/…``: whether a file may be seen
depends on its image's or document's collection (``cms.visibility.is_public_media``).
A public bucket, or a CDN in front of one, would hand a restricted image to anyone with
its URL; signed URLs would expire inside cached pages and API answers. So every file is
fetched through ``cms.media.serve_media``, which checks the rule and streams the object
from the bucket; a shared cache may keep the public ones (they are marked public, a day).
"""

from __future__ import annotations

from django.conf import settings
from django.utils.encoding import filepath_to_uri
from storages.backends.s3 import S3Storage


class PrivateMediaS3Storage(S3Storage):
    """A private bucket whose files are addressed at the app's ``MEDIA_URL``."""

    def url(self, name: str, parameters=None, expire=None, http_method=None) -> str:
        return f"{settings.MEDIA_URL}{filepath_to_uri(name)}"
