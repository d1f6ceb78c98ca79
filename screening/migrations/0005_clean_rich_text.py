"""Clean the rich text already stored in the screening pages and their revisions.

The same walk over rows and revisions as ``cms``'s migration 0008, imported from it, with
the same cleaner (``cms.rich_text.clean_rich_text``, the one every save uses).
"""

from importlib import import_module

from django.db import migrations

clean_app = import_module("cms.migrations.0008_clean_rich_text").clean_app


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0008_clean_rich_text"),
        ("screening", "0004_clinical_governance"),
    ]

    operations = [
        # Nothing to undo: the dirty markup is not kept.
        migrations.RunPython(clean_app("screening"), migrations.RunPython.noop, elidable=True),
    ]
