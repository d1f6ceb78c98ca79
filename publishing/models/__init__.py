"""Publishing models, one module per area (scheduling, feeds, webhooks)."""
