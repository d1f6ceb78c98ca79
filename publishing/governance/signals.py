"""Signals clinical governance sends; the publish pipeline listens (publishing.pipeline)."""

from django.dispatch import Signal

#: A live page's clinical review lapsed and it now shows the "being reviewed" banner.
#: Sent inside the lapse's transaction with ``instance`` (the specific page).
review_lapsed = Signal()
