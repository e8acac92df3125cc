"""Notices written before this app (one per organization, read marks per user) become one notice per member,
kind "message", so nobody loses what they had been told; accounts 0007 then drops the old table."""

from django.db import migrations


def copy_legacy(apps, schema_editor):
    Legacy = apps.get_model("accounts", "Notification")
    User = apps.get_model("accounts", "User")
    Notice = apps.get_model("notifications", "Notice")
    for old in Legacy.objects.all().iterator():
        readers = set(old.read_by.values_list("pk", flat=True))
        for user in User.objects.filter(organization_id=old.organization_id):
            Notice.objects.get_or_create(
                recipient=user,
                cause=f"legacy:{old.pk}",
                defaults={
                    "kind": "message",
                    "params": {"title": old.title[:500], "body": old.body[:500]},
                    "url": old.url,
                    "created_at": old.created_at,
                    "read_at": old.created_at if user.pk in readers else None,
                },
            )


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("accounts", "0006_user_phone_verified_at"),
    ]

    operations = [migrations.RunPython(copy_legacy, migrations.RunPython.noop)]
