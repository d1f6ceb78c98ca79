"""Uploaded files (``/media/``), served only when the public may see them.

Wagtail's collection privacy guards its document view, not the files behind it, and
images not at all: a restricted image's file and renditions downloaded by anyone who
had the URL. Every file here belongs to an image, a rendition or a document; it is
served when that object is public (``cms.visibility``), to admin users always (the
admin shows thumbnails of private images), and otherwise answers 404, as a file that
does not exist would. Production serves it too, so uploaded images no longer 404 there;
with object storage configured (cms/storage.py) the file is streamed from the private
bucket after the same check.
"""

from __future__ import annotations

import mimetypes

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe
from django.views.static import serve
from wagtail.documents import get_document_model
from wagtail.images import get_image_model

from cms import visibility

#: Public files change name when their content changes (renditions, uploads), so a
#: shared cache may keep them a day.
PUBLIC_MAX_AGE = 86400


def _owner(path: str):
    """The image, rendition or document stored at ``path``, or ``None``."""
    image_model = get_image_model()
    image = image_model.objects.filter(file=path).only("id", "collection_id").first()
    if image is not None:
        return image
    rendition = (
        image_model.get_rendition_model()
        .objects.filter(file=path)
        .select_related("image")
        .only("id", "filter_spec", "image__id", "image__collection_id")
        .first()
    )
    if rendition is not None:
        return rendition.image
    return get_document_model().objects.filter(file=path).only("id", "collection_id").first()


def _is_admin(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated and user.has_perm("wagtailadmin.access_admin"))


def _file_response(request: HttpRequest, path: str) -> HttpResponse:
    """From MEDIA_ROOT, or streamed from object storage when that is configured."""
    storage = storages["default"]
    if isinstance(storage, FileSystemStorage):
        return serve(request, path, document_root=settings.MEDIA_ROOT)
    if not storage.exists(path):
        raise Http404("No such file.")
    content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return FileResponse(storage.open(path, "rb"), content_type=content_type)


@require_safe
def serve_media(request: HttpRequest, path: str) -> HttpResponse:
    owner = _owner(path)
    if owner is None:
        raise Http404("No such file.")
    public = visibility.is_public_media(owner)
    if not public and not _is_admin(request):
        raise Http404("No such file.")
    response = _file_response(request, path)
    if public:
        patch_cache_control(response, public=True, max_age=PUBLIC_MAX_AGE)
    else:
        patch_cache_control(response, private=True, no_store=True)
    return response
