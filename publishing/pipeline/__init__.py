"""The publish pipeline: one handler per transaction, then caches → CDN → partners.

Read in this order:

- ``signal_handlers``: every content signal (publish, unpublish, move, delete, privacy,
  author, site) adds to the transaction's ``Change`` and writes webhook outbox rows;
- ``change``: what a transaction changed (URLs, feeds, held deliveries), flushed once
  on commit;
- ``steps``: after commit, in order: our caches, the CDN purge, then notifications;
- ``purge``: the CDN through ``wagtail.contrib.frontend_cache``;
- ``tasks``: the beat sweep that retries a failed purge (notifications wait for it).
"""
