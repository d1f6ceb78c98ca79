"""The screener's evaluate endpoint in OpenAPI 3.1, for the site's one partner document
(``cms.openapi``, which reads it by name from ``OPENAPI_PARTS``: cms never imports us)."""

from __future__ import annotations

from .api import MAX_ANSWER_LENGTH, MAX_ANSWERS
from .rules import OUTCOMES

_ERROR = {"$ref": "#/components/schemas/ScreeningError"}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ERROR}}}


def openapi_part() -> dict:
    """Paths and component schemas of ``POST /api/screening/{page_id}/evaluate/``."""
    operation = {
        "operationId": "screening_evaluate",
        "summary": "Evaluate a screener's answers",
        "description": (
            "Answers are evaluated and forgotten: never stored, logged or cached. Only an "
            "anonymous count per outcome per day is kept."
        ),
        "tags": ["screening"],
        "parameters": [
            {
                "in": "path",
                "name": "page_id",
                "required": True,
                "schema": {"type": "integer", "minimum": 1},
                "description": "The id of a published screener page (pages API type "
                "screening.ScreenerPage).",
            }
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/ScreeningAnswers"}}
            },
        },
        "responses": {
            "200": {
                "description": "The outcome, with the message to show and where to go next.",
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/ScreeningOutcome"}
                    }
                },
            },
            "400": _error("The body or the page id is not what the screener accepts."),
            "404": _error("There is no published screener with this id."),
            "413": _error("The body is too large."),
            "429": _error("Too many requests; see Retry-After."),
        },
    }
    return {
        "paths": {"/api/screening/{page_id}/evaluate/": {"post": operation}},
        "components": {
            "schemas": {
                "ScreeningAnswers": {
                    "type": "object",
                    "title": "ScreeningAnswers",
                    "required": ["answers"],
                    "additionalProperties": False,
                    "properties": {
                        "answers": {
                            "type": "array",
                            "maxItems": MAX_ANSWERS,
                            "items": {"type": "string", "maxLength": MAX_ANSWER_LENGTH},
                            "description": 'Ids of the items that apply, or ["none"].',
                        }
                    },
                },
                "ScreeningOutcome": {
                    "type": "object",
                    "title": "ScreeningOutcome",
                    "required": ["outcome", "message_html", "next_url"],
                    "properties": {
                        "outcome": {"type": "string", "enum": list(OUTCOMES)},
                        "message_html": {"type": "string"},
                        "next_url": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                    },
                },
                "ScreeningError": {
                    "type": "object",
                    "title": "ScreeningError",
                    "required": ["error", "detail"],
                    "properties": {
                        "error": {"type": "string"},
                        "detail": {"type": "string"},
                        "unknown_answers": {"type": "array", "items": {"type": "string"}},
                    },
                },
            }
        },
    }
