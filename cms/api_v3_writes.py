"""API v3 page writes: a body is written whole or refused with a reason, never trimmed.

Wagtail 8's v3 writes a page through the page type's admin form, narrowed to the fields
its ``api_fields`` mark ``writable=True``; ours mark none, so only ``Page``'s own fields
(title, slug, seo_title, search_description, show_in_menus) can be written. Wagtail's
input schemas ignore every other key, so a ``PATCH`` of ``intro`` answered 200 and
changed nothing; and a draft create leaves the form's required fields out, so a page type
with a required column no client can send (``EventResourcesPage.year``,
``BlogPostPage.date``) ended in an ``IntegrityError`` and a 500.

Here, before Wagtail sees a write (``PublicAPIMiddleware`` calls :func:`refusal`):

* a key the page type's v3 input schema does not take is refused, naming the key and
  saying whether it is a read-only field or unknown (with what may be written);
* a create of a page type whose required columns v3 cannot write is refused;
* a create under a parent that does not allow the type is refused with the types it
  allows (Wagtail answers a bare 403 "permission" for that);
* a key a page action's body does not take (``destination`` for ``destination_id``) is
  refused, not ignored;
* a body that is not a JSON object, and copy, alias or move of the tree's root (each a
  500 in Wagtail), are refused.

And around every v3 write (:func:`run_write`): one transaction, rolled back unless the
answer is a success, so a refused write leaves the database as it was; a database
integrity error that still gets through becomes a 422 naming the column, not a 500.

Status: 422 ``application/problem+json``, as Wagtail's v3 answers every other validation
failure (``wagtail.api.v3.errors``), so a client reads one shape for all of them; 400
stays what v3 uses for a body it cannot parse.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, get_args

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from wagtail.api.v3.errors import problem_response
from wagtail.api.v3.registry import registry
from wagtail.api.v3.routers import pages as v3_pages
from wagtail.models import Page

from cms.params import MAX_ID, InvalidNumber, parse_int

V3_PREFIX = "/api/v3/"
#: ``POST /api/v3/pages/`` (create) and ``PATCH /api/v3/pages/<id>/`` (update).
_PAGE_WRITE = re.compile(r"^/api/v3/pages/(?:(?P<page_id>[^/]+)/)?$")
_ROOT_UNSAFE_ACTION = re.compile(
    r"^/api/v3/pages/(?P<page_id>[^/]+)/actions/(?P<action>copy|create_alias|move)/$"
)
_ACTION = re.compile(r"^/api/v3/pages/[^/]+/actions/(?P<action>\w+)/$")
#: Any write that names a page in its path (update, delete, actions).
_PAGE_IN_PATH = re.compile(r"^/api/v3/pages/(?P<page_id>[^/]+)/")
#: The body each page action of Wagtail's v3 takes (``wagtail.api.v3.routers.pages``).
ACTION_BODIES: dict[str, type[BaseModel]] = {
    "copy": v3_pages.PageCopySchema,
    "copy_for_translation": v3_pages.PageCopyForTranslationSchema,
    "create_alias": v3_pages.PageCreateAliasSchema,
    "move": v3_pages.PageMoveSchema,
    "revert": v3_pages.PageRevertSchema,
    "unpublish": v3_pages.PageUnpublishSchema,
}
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: The body location Wagtail's own validation errors use, so both read alike.
_BODY = "body"


def is_v3_write(request: HttpRequest) -> bool:
    return request.method in WRITE_METHODS and request.path.startswith(V3_PREFIX)


def validation_problem(errors: list[dict[str, Any]]) -> HttpResponse:
    """Wagtail v3's own 422 problem answer, with our ``errors`` (``type``, ``loc``, ``msg``)."""
    return problem_response(
        status=422,
        detail="; ".join(error["msg"] for error in errors) or "Validation failed",
        errors=errors,
    )


def _input_schema(model: type[Model], create: bool) -> type[BaseModel] | None:
    registration = registry.get(model._meta.label)
    if registration is None:
        return None
    return registration.create_schema if create else registration.patch_schema


def _meta_keys(schema: type[BaseModel]) -> set[str]:
    """The keys ``meta`` takes (its annotation may be ``MetaSchema | None``)."""
    annotation = schema.model_fields["meta"].annotation
    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return set(candidate.model_fields)
    return set()


def writable_fields(model: type[Model], *, create: bool = True) -> list[str]:
    """The page fields a v3 body may carry for ``model`` (Wagtail's input schema's)."""
    schema = _input_schema(model, create)
    return [name for name in (schema.model_fields if schema else ()) if name != "meta"]


def unwritable_required_fields(model: type[Model]) -> list[str]:
    """Columns a new page of ``model`` must fill that no v3 body can: a draft create
    would write NULL into them (a draft leaves required form fields out)."""
    writable = set(writable_fields(model))
    return [
        field.name
        for field in model._meta.concrete_fields
        if field.editable
        and not field.primary_key
        and not field.null
        and not field.blank
        and field.get_default() is None
        and field.name not in writable
        and field.model is not Page  # Wagtail fills the tree columns itself
    ]


def _unknown_keys(model: type[Model], body: dict, schema: type[BaseModel]) -> list[dict[str, Any]]:
    allowed = set(schema.model_fields)
    read_only = {field.name for field in getattr(model, "api_fields", ())}
    label, writable = model._meta.label, ", ".join(writable_fields(model))
    errors = []
    for key in body:
        if key in allowed:
            continue
        if key in read_only:
            msg = (
                f"“{key}” of {label} is read-only through API v3 (it can be written in "
                f"the admin); writable fields: {writable}."
            )
            kind = "read_only_field"
        else:
            msg = f"{label} has no field “{key}”; writable fields: {writable}."
            kind = "unknown_field"
        errors.append({"type": kind, "loc": [_BODY, key], "msg": msg})
    meta = body.get("meta")
    if isinstance(meta, dict):
        meta_keys = _meta_keys(schema)
        errors.extend(
            {
                "type": "unknown_field",
                "loc": [_BODY, "meta", key],
                "msg": f"“meta” takes no “{key}”; it takes {', '.join(sorted(meta_keys))}.",
            }
            for key in meta
            if key not in meta_keys
        )
    return errors


def _create_problems(model: type[Model], meta: dict) -> list[dict[str, Any]]:
    label = model._meta.label
    errors = [
        {
            "type": "not_writable_required_field",
            "loc": [_BODY, name],
            "msg": (
                f"A new {label} needs “{name}”, which API v3 cannot write: "
                f"create this page type in the admin."
            ),
        }
        for name in unwritable_required_fields(model)
    ]
    parent_id = meta.get("parent_id")
    if not isinstance(parent_id, int) or isinstance(parent_id, bool):
        return errors  # Wagtail's schema says what is wrong with it
    if not 0 < parent_id <= MAX_ID:
        errors.append(
            {
                "type": "less_than_equal",
                "loc": [_BODY, "meta", "parent_id"],
                "msg": f"“parent_id” must be a page id, from 1 to {MAX_ID}.",
            }
        )
    else:
        parent = Page.objects.filter(pk=parent_id).first()
        if parent is not None:
            parent = parent.specific
            if model not in parent.creatable_subpage_models() or not model.can_create_at(parent):
                allowed = ", ".join(m._meta.label for m in parent.creatable_subpage_models())
                errors.append(
                    {
                        "type": "parent_not_allowed",
                        "loc": [_BODY, "meta", "parent_id"],
                        "msg": (
                            f"{label} cannot be created under page {parent_id} "
                            f"({parent.specific_class._meta.label}); "
                            f"allowed there: {allowed or 'none'}."
                        ),
                    }
                )
    return errors


def _target_model(request: HttpRequest, body: dict) -> tuple[type[Model], bool] | None:
    """The page type a create or update writes, and whether it is a create."""
    match = _PAGE_WRITE.match(request.path)
    if match is None:
        return None
    page_id = match.group("page_id")
    if request.method == "POST" and page_id is None:
        meta = body.get("meta")
        label = meta.get("type") if isinstance(meta, dict) else None
        if not isinstance(label, str) or registry.get(label) is None:
            return None  # Wagtail says what is wrong with ``meta``
        return apps.get_model(label), True
    if request.method == "PATCH" and page_id is not None:
        try:
            pk = parse_int(page_id, name="page_id", minimum=1)
        except InvalidNumber:
            return None
        ct_id = Page.objects.filter(pk=pk).values_list("content_type_id", flat=True).first()
        model = ContentType.objects.get_for_id(ct_id).model_class() if ct_id else None
        return (model, False) if model is not None else None
    return None


def _tree_root_refusal(request: HttpRequest) -> HttpResponse | None:
    """Copy, alias and move read the page's parent; the tree's root has none (a 500)."""
    match = _ROOT_UNSAFE_ACTION.match(request.path)
    if match is None:
        return None
    try:
        pk = parse_int(match.group("page_id"), name="page_id", minimum=1)
    except InvalidNumber:
        return None
    if not Page.objects.filter(pk=pk, depth=1).exists():
        return None
    msg = f"The root of the page tree cannot be the subject of “{match.group('action')}”."
    return validation_problem([{"type": "root_page", "loc": ["path", "page_id"], "msg": msg}])


def _action_body_refusal(request: HttpRequest, body: Any) -> HttpResponse | None:
    """Keys an action's body schema does not take (a misspelt ``destination_id`` would
    copy the page beside itself, silently)."""
    match = _ACTION.match(request.path)
    schema = ACTION_BODIES.get(match.group("action")) if match else None
    if schema is None or not isinstance(body, dict):
        return None
    allowed = ", ".join(schema.model_fields)
    errors = [
        {
            "type": "unknown_field",
            "loc": [_BODY, key],
            "msg": f"“{match.group('action')}” takes no “{key}”; it takes {allowed}.",
        }
        for key in body
        if key not in schema.model_fields
    ]
    return validation_problem(errors) if errors else None


def _page_id_refusal(request: HttpRequest) -> HttpResponse | None:
    """A page id that is not a number: some of Wagtail's write paths look it up before
    validating it (a 500)."""
    match = _PAGE_IN_PATH.match(request.path)
    if match is None:
        return None
    try:
        parse_int(match.group("page_id"), name="page_id", minimum=1, maximum=MAX_ID)
    except InvalidNumber as exc:
        return validation_problem(
            [{"type": "int_parsing", "loc": ["path", "page_id"], "msg": str(exc)}]
        )
    return None


def refusal(request: HttpRequest) -> HttpResponse | None:
    """A 422 for a page write Wagtail would trim, half-do or fail on, or ``None``."""
    if (problem := _page_id_refusal(request)) is not None:
        return problem
    if (problem := _tree_root_refusal(request)) is not None:
        return problem
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, RecursionError):
        return None  # Wagtail's 400 "Cannot parse request body"
    if (problem := _action_body_refusal(request, body)) is not None:
        return problem
    if _PAGE_WRITE.match(request.path) and not isinstance(body, dict):
        # Wagtail's body parsing fails with a 500 on a JSON array or scalar.
        msg = "The body must be a JSON object."
        return validation_problem([{"type": "dict_type", "loc": [_BODY], "msg": msg}])
    if not isinstance(body, dict):
        return None
    target = _target_model(request, body)
    if target is None:
        return None
    model, create = target
    schema = _input_schema(model, create)
    if schema is None:
        return None  # Wagtail refuses types that have no input schema
    errors = _unknown_keys(model, body, schema)
    if create:
        meta = body.get("meta")
        errors.extend(_create_problems(model, meta if isinstance(meta, dict) else {}))
    if not errors:
        return None
    # Everything wrong in one answer: Wagtail's own schema errors too.
    try:
        schema.model_validate(body)
    except PydanticValidationError as exc:
        errors.extend(
            {"type": e["type"], "loc": [_BODY, *e["loc"]], "msg": e["msg"]}
            for e in exc.errors()
            if e["type"] != "extra_forbidden"
        )
    return validation_problem(errors)


def _column(exc: Exception) -> str | None:
    """The column a database integrity error names (PostgreSQL's diagnostics, SQLite's text)."""
    diag = getattr(exc.__cause__, "diag", None)
    if diag is not None and getattr(diag, "column_name", None):
        return diag.column_name
    found = re.search(r"failed: \w+\.(\w+)", str(exc))
    return found.group(1) if found else None


def database_problem(exc: Exception) -> HttpResponse:
    """A write the database refused, as a 422 naming the column where it is known."""
    column = _column(exc)
    if isinstance(exc, IntegrityError):
        what = "is missing or clashes with another page" if column else "clashes with stored data"
    else:
        what = "has a value the database cannot store"
    msg = f"“{column}” {what}." if column else f"The content {what}."
    loc = [_BODY, column] if column else [_BODY]
    return validation_problem([{"type": "database_refused", "loc": loc, "msg": msg}])


def is_database_refusal(exc: Exception) -> bool:
    return isinstance(exc, IntegrityError | DataError)


def is_unwritable_field_refusal(exc: Exception) -> bool:
    """A model's ``clean()`` refused a field v3's narrowed form leaves out: Django's form
    then raises ``ValueError`` ("has no field named ...") while handling that error."""
    return isinstance(exc, ValueError) and isinstance(exc.__context__, ValidationError)


def unwritable_field_problem(exc: Exception) -> HttpResponse:
    """The model's own validation messages, each naming the field v3 cannot write."""
    refusal = exc.__context__
    errors = [
        {
            "type": "not_writable_field_invalid",
            "loc": [_BODY, field],
            "msg": f"“{field}”: {message} (API v3 cannot write “{field}”: use the admin.)",
        }
        for field, messages in getattr(refusal, "message_dict", {"": refusal.messages}).items()
        for message in messages
    ]
    return validation_problem(errors)


def run_write(
    request: HttpRequest, get_response: Callable[[HttpRequest], HttpResponse]
) -> HttpResponse:
    """Run a v3 write in one transaction that is kept only when the answer is a success."""
    with transaction.atomic():
        response = get_response(request)
        if response.status_code >= 300:
            transaction.set_rollback(True)
    return response
