"""Who is asking, without keeping who they are."""

import hashlib
import hmac

from django.conf import settings
from django.http import HttpRequest


def client_key(request: HttpRequest) -> str:
    """An opaque, keyed hash of the client address: rate limits count it, never the IP."""
    address = request.META.get("REMOTE_ADDR", "") or "unknown"
    secret = settings.SECRET_KEY.encode()
    return hmac.new(secret, address.encode(), hashlib.sha256).hexdigest()[:32]
