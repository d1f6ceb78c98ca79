"""``GET /api/changes/`` in OpenAPI 3.1, for the site's one partner document
(``cms.openapi`` reads it by name from ``OPENAPI_PARTS``: cms never imports publishing)."""

from __future__ import annotations

from publishing.models import WebhookEvent
from publishing.webhooks.changes import MAX_LIMIT

_ERROR = {"$ref": "#/components/schemas/ChangesError"}


def openapi_part() -> dict:
    """Paths and component schemas of the changes feed."""
    operation = {
        "operationId": "changes_list",
        "summary": "Changes to public pages, to keep a copy in step",
        "description": (
            "Without `since`: a snapshot, one `page.published` item per page the public may "
            "see now. With `since` (a `next` from an earlier answer): every change after it, "
            "oldest first. Read until `has_more` is false, keep `next`, ask again later."
        ),
        "tags": ["changes"],
        "parameters": [
            {
                "in": "query",
                "name": "since",
                "required": False,
                "schema": {"type": "string", "maxLength": 64},
                "description": "An opaque cursor: a `next` or an item's `cursor`.",
            },
            {
                "in": "query",
                "name": "limit",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 100},
            },
            {
                "in": "query",
                "name": "type",
                "required": False,
                "schema": {"type": "string"},
                "description": "Only pages of this type, as the pages API names it "
                "(e.g. cms.BlogPostPage).",
            },
            {
                "in": "query",
                "name": "tag",
                "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 100},
                "description": "Only pages with this tag (any case).",
            },
        ],
        "responses": {
            "200": {
                "description": "One page of changes.",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ChangesPage"}}
                },
            },
            "304": {"description": "Not modified (If-None-Match matched the ETag)."},
            "400": {
                "description": "A parameter or cursor this feed cannot read.",
                "content": {"application/json": {"schema": _ERROR}},
            },
            "410": {
                "description": "The cursor is older than the changes kept: start again "
                "without `since`.",
                "content": {"application/json": {"schema": _ERROR}},
            },
        },
    }
    return {
        "paths": {"/api/changes/": {"get": operation}},
        "components": {
            "schemas": {
                "ChangesPage": {
                    "type": "object",
                    "title": "ChangesPage",
                    "required": ["items", "next", "has_more"],
                    "properties": {
                        "items": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Change"},
                        },
                        "next": {"type": "string"},
                        "has_more": {"type": "boolean"},
                    },
                },
                "Change": {
                    "type": "object",
                    "title": "Change",
                    "required": ["id", "cursor", "event", "at", "page"],
                    "properties": {
                        "id": {
                            "anyOf": [{"type": "string"}, {"type": "null"}],
                            "description": "The `webhook-id` of the push of this change "
                            "(null in a snapshot).",
                        },
                        "cursor": {"type": "string"},
                        "event": {
                            "type": "string",
                            "enum": [choice.value for choice in WebhookEvent.Type],
                        },
                        "at": {
                            "anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]
                        },
                        "page": {"$ref": "#/components/schemas/ChangedPage"},
                    },
                },
                "ChangedPage": {
                    "type": "object",
                    "title": "ChangedPage",
                    "required": ["id", "type", "url", "title"],
                    "properties": {
                        "id": {"type": "integer"},
                        "type": {"type": "string"},
                        "url": {"type": "string"},
                        "title": {"type": "string"},
                    },
                },
                "ChangesError": {
                    "type": "object",
                    "title": "ChangesError",
                    "required": ["message", "status"],
                    "properties": {"message": {"type": "string"}, "status": {"type": "integer"}},
                },
            }
        },
    }
