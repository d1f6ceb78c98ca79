"""Partner webhooks: signed, retried, logged pushes of page changes (issue 5)."""
