"""Clean the rich text already stored, now that it is cleaned on save instead of on output.

Live rows (every ``RichTextField``, and every ``RichTextBlock`` inside every StreamField)
and the content of every revision (drafts and scheduled ones are served by preview and
published later) go through the same allow-list that ``cms.rich_text.clean_rich_text``
applies on save.

The cleaner is imported, not copied: ``clean_rich_text``'s contract ("Wagtail's database
format, nothing that can run") is exactly what this migration needs, and whenever it runs
it should leave rows as a save would leave them then. A frozen copy would be a second
allow-list to keep in step, or one that drifts from the saved rows. The function's
docstring names this migration, so it is not renamed unnoticed. ``screening``'s
migration imports ``clean_app`` from here, so the walk over rows and revisions is once.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable

from django.db import migrations
from wagtail import blocks
from wagtail.blocks import StreamValue
from wagtail.fields import RichTextField, StreamField

from cms.rich_text import clean_rich_text as clean


def _clean_block(block: blocks.Block, value: object) -> object:
    """``value`` (raw JSON of ``block``) with every rich text inside it cleaned."""
    if isinstance(block, blocks.RichTextBlock):
        return clean(value) if isinstance(value, str) else value
    if isinstance(block, blocks.StreamBlock) and isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and item.get("type") in block.child_blocks:
                item["value"] = _clean_block(block.child_blocks[item["type"]], item.get("value"))
        return value
    if isinstance(block, blocks.StructBlock) and isinstance(value, dict):
        for name, child in block.child_blocks.items():
            if name in value:
                value[name] = _clean_block(child, value[name])
        return value
    if isinstance(block, blocks.ListBlock) and isinstance(value, list):
        return [
            {**item, "value": _clean_block(block.child_block, item.get("value"))}
            if isinstance(item, dict) and item.get("type") == "item"
            else _clean_block(block.child_block, item)
            for item in value
        ]
    return value


def _clean_stream(field: StreamField, raw: list) -> list:
    return _clean_block(field.stream_block, copy.deepcopy(raw))


def _rich_text_fields(model: type) -> list:
    return [f for f in model._meta.concrete_fields if isinstance(f, RichTextField | StreamField)]


def _clean_live_rows(model: type, fields: list) -> None:
    names = [f.attname for f in fields]
    for pk, *values in model._base_manager.values_list("pk", *names).iterator():
        changes = {}
        for field, value in zip(fields, values, strict=True):
            if isinstance(field, StreamField):
                raw = value.get_prep_value() if isinstance(value, StreamValue) else value
                if not isinstance(raw, list):
                    continue
                cleaned = _clean_stream(field, raw)
                if cleaned != raw:
                    changes[field.attname] = StreamValue(
                        field.stream_block, cleaned, is_lazy=True
                    )
            elif isinstance(value, str) and clean(value) != value:
                changes[field.attname] = clean(value)
        if changes:
            model._base_manager.filter(pk=pk).update(**changes)


def _clean_revision_content(content: dict, fields: list) -> dict:
    """A revision's content: StreamFields are JSON strings inside it (modelcluster)."""
    content = dict(content)
    for field in fields:
        value = content.get(field.name)
        if isinstance(field, StreamField):
            raw = json.loads(value) if isinstance(value, str) else value
            if isinstance(raw, list):
                cleaned = _clean_stream(field, raw)
                if cleaned != raw:
                    content[field.name] = json.dumps(cleaned) if isinstance(value, str) else cleaned
        elif isinstance(value, str):
            content[field.name] = clean(value)
    return content


def clean_app(app_label: str) -> Callable:
    """A ``RunPython`` function cleaning ``app_label``'s rows and its models' revisions."""

    def forwards(apps, schema_editor) -> None:
        ContentType = apps.get_model("contenttypes", "ContentType")
        Revision = apps.get_model("wagtailcore", "Revision")
        for model in apps.get_app_config(app_label).get_models():
            fields = _rich_text_fields(model)
            if not fields:
                continue
            _clean_live_rows(model, fields)
            content_types = ContentType.objects.filter(
                app_label=app_label, model=model._meta.model_name
            )
            revisions = Revision.objects.filter(content_type__in=content_types)
            for pk, content in revisions.values_list("pk", "content").iterator():
                if not isinstance(content, dict):
                    continue
                cleaned = _clean_revision_content(content, fields)
                if cleaned != content:
                    Revision.objects.filter(pk=pk).update(content=cleaned)

    return forwards


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0007_clinical_governance"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [
        # Nothing to undo: the dirty markup is not kept.
        migrations.RunPython(clean_app("cms"), migrations.RunPython.noop, elidable=True),
    ]
