"""Signals other apps listen to, so cms never has to import them."""

from django.dispatch import Signal

#: Sent by ``load_seed_content`` after the core pages exist, with ``home``. Receivers
#: create their own seed pages and return how many objects they created.
seed_content_loading = Signal()
