"""Notifications recorded before messages were hashed in canonical form get their digest recomputed,
so a resend of one of them in another key order is recognized as a replay."""

from django.db import migrations


def canonical_digests(apps, schema_editor):
    from deposits.bank import MalformedMessage, message_digest

    notification_model = apps.get_model("deposits", "BankNotification")
    for notification in notification_model.objects.only("pk", "body", "body_sha256").iterator():
        try:
            digest = message_digest(bytes(notification.body))
        except MalformedMessage:
            continue  # every recorded body was parsed as a JSON object; nothing to recompute
        if digest != notification.body_sha256:
            notification_model.objects.filter(pk=notification.pk).update(body_sha256=digest)


class Migration(migrations.Migration):
    dependencies = [("deposits", "0001_initial")]

    operations = [migrations.RunPython(canonical_digests, migrations.RunPython.noop)]
