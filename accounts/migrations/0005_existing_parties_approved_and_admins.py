"""Organizations and users that existed before self-registration keep every right they had.

Every organization created before (by center staff, the demo, earlier migrations) counts as approved
from its creation, so `ensure_may_trade` goes on letting it trade; every user acting for an
organization (supplier and agent roles: the users `require_org_role` applies to) becomes an
administrator of it, so nothing they could do before is lost.
"""

from django.db import migrations
from django.db.models import F

PARTY_ROLES = ("supplier", "agent")


def forwards(apps, schema_editor):
    Organization = apps.get_model("accounts", "Organization")
    User = apps.get_model("accounts", "User")
    OrgRoleGrant = apps.get_model("accounts", "OrgRoleGrant")
    Organization.objects.filter(approved_at__isnull=True).update(approved_at=F("created_at"))
    users = User.objects.filter(organization__isnull=False, groups__name__in=PARTY_ROLES).distinct()
    OrgRoleGrant.objects.bulk_create(
        [OrgRoleGrant(user_id=pk, role="admin") for pk in users.values_list("pk", flat=True)],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_self_registration")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
