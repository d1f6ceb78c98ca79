"""Behaviour shared by every public page type."""

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone


class ExpiryAwareMixin:
    """Refuse to serve a page whose ``expire_at`` has passed.

    The scheduler unpublishes expired pages within a second, but a reader must never
    see an expired page even in that second, or while the workers are down.
    """

    def is_expired_now(self) -> bool:
        expire_at = getattr(self, "expire_at", None)
        return expire_at is not None and expire_at <= timezone.now()

    def serve(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if self.is_expired_now():
            raise Http404
        return super().serve(request, *args, **kwargs)
