"""The "Clinical reviewers" group loses ``publish_page`` on the root that 0005 gave it.

A reviewer approves the Clinical review task; Wagtail lets the task's group open the
editor and approve (``Task.user_can_access_editor``, ``get_actions``), and the finish
action publishes the approved revision without a permission check of its own
(publishing/governance/workflow.py). Publishing rights beyond that are not needed.
Only the grant 0005 made is removed: rights an administrator gave elsewhere stay.
"""

from django.db import migrations

GROUP = "Clinical reviewers"


def revoke_root_publish(apps, schema_editor):
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    GroupPagePermission.objects.filter(
        group__name=GROUP,
        page__depth=1,
        permission__content_type__app_label="wagtailcore",
        permission__codename="publish_page",
    ).delete()


def restore_root_publish(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    Page = apps.get_model("wagtailcore", "Page")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    group = Group.objects.filter(name=GROUP).first()
    root = Page.objects.filter(depth=1).order_by("path").first()
    publish = Permission.objects.filter(
        content_type__app_label="wagtailcore", codename="publish_page"
    ).first()
    if group is not None and root is not None and publish is not None:
        GroupPagePermission.objects.get_or_create(group=group, page=root, permission=publish)


class Migration(migrations.Migration):
    dependencies = [
        ("publishing", "0005_clinical_governance"),
    ]

    operations = [migrations.RunPython(revoke_root_publish, restore_root_publish)]
