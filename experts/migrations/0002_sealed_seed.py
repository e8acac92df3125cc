"""Seeds of draws not yet run are sealed to the project key and cleared from the readable column."""

from django.conf import settings
from django.db import migrations, models
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.secret import SecretBox


# The project-key operations of bidding.crypto as they were when this migration was written, frozen
# here: a migration does not import app code (experts sits below bidding in the dependency order).
def _new_project_key():
    private = PrivateKey.generate()
    master = SecretBox(bytes.fromhex(settings.BID_MASTER_KEY))
    return bytes(private.public_key), master.encrypt(bytes(private))


def _seal_to(public_key, data):
    return SealedBox(PublicKey(public_key)).encrypt(data)


def seal_pending_seeds(apps, schema_editor):
    draw_model = apps.get_model("experts", "DrawRequest")
    key_model = apps.get_model("bidding", "ProjectKey")
    for draw in draw_model.objects.filter(drawn_at__isnull=True).exclude(seed=""):
        key = key_model.objects.filter(project_id=draw.project_id).first()
        if key is None:
            public, wrapped = _new_project_key()
            key = key_model.objects.create(
                project_id=draw.project_id, public_key=public, wrapped_private_key=wrapped
            )
        draw.sealed_seed = _seal_to(bytes(key.public_key), draw.seed.encode())
        draw.seed = ""
        draw.save(update_fields=["sealed_seed", "seed"])


class Migration(migrations.Migration):
    dependencies = [("experts", "0001_initial"), ("bidding", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="drawrequest",
            name="sealed_seed",
            field=models.BinaryField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="drawrequest",
            name="seed",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.RunPython(seal_pending_seeds, migrations.RunPython.noop),
    ]
