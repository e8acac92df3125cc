"""What each role may do everywhere (model permissions on its group).

Object permissions — what a member of one organization may do with that organization's own projects,
bids and deposits — are granted per object by the service that creates the object, to the
organization's members group. A permission here applies to every object of the model, so only roles
that legitimately act on all of them get one: center staff (operations) and supervisors (read-only).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission

from accounts.models import Role

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.CENTER_STAFF: [
        "accounts.view_organization",
        "accounts.add_organization",
        "accounts.change_organization",
        "accounts.manage_integrity",
        "accounts.view_integrityrecord",
        "accounts.view_user",
        "accounts.add_user",
        "accounts.change_user",
        "accounts.view_organizationapplication",
        "accounts.review_application",
        "experts.view_expertapplication",
        "experts.review_expertapplication",
        "audit.view_auditevent",
        "clock.view_scheduledtask",
        "clock.view_statutoryday",
        "clock.add_statutoryday",
        "clock.change_statutoryday",
        "clock.delete_statutoryday",
        "trading.view_project",
        "trading.review_project",
        "trading.view_registration",
        "trading.view_registration_list",
        "trading.view_question",
        "trading.view_objection",
        "trading.view_suspension",
        "complaints.view_complaint",
        "frameworks.view_quote",
        "contracts.view_contract",
        "accounts.view_notification",
        "audit.view_alert",
        "deposits.view_account",
        "deposits.view_deposit",
        "deposits.view_guarantee",
        "deposits.verify_guarantee",
        "deposits.view_instrument",
        "deposits.add_instrument",
        "deposits.change_instrument",
        "deposits.view_refund",
        "deposits.add_refundbatch",
        "deposits.view_refundbatch",
        "deposits.schedule_refund",
        "deposits.forfeit_deposit",
        "deposits.convert_deposit",
        "deposits.view_fxrate",
        "deposits.add_fxrate",
        "deposits.view_banknotification",
        "deposits.view_journalentry",
        "deposits.add_bankstatement",
        "deposits.view_bankstatement",
        "experts.view_expert",
        "experts.manage_pool",
        "experts.request_draw",
        "experts.view_drawrequest",
        "experts.add_rating",
        "experts.view_rating",
        "bidding.run_evaluation",
        "bidding.view_evaluation",
        "bidding.view_opening",
        "signing.view_certificate",
        "signing.change_certificate",
        "signing.view_signedact",
        "notifications.view_delivery",
        "notifications.retry_delivery",
        "notifications.view_simulatedemail",
        "notifications.view_simulatedsms",
    ],
    # Supervisors see everything and change nothing but what the law gives the regulator: alerts,
    # the draw's sign-off, and complaints (受理、调查、暂停、处理决定).
    Role.SUPERVISOR: [
        "accounts.view_organization",
        "accounts.view_integrityrecord",
        "accounts.view_user",
        "accounts.view_organizationapplication",
        "experts.view_expertapplication",
        "audit.view_auditevent",
        "clock.view_scheduledtask",
        "clock.view_statutoryday",
        "trading.view_project",
        "trading.view_registration",
        "trading.view_registration_list",
        "trading.view_question",
        "trading.view_objection",
        "trading.view_suspension",
        "trading.suspend_project",
        "complaints.view_complaint",
        "frameworks.view_quote",
        "complaints.handle_complaint",
        "contracts.view_contract",
        "audit.view_alert",
        "audit.handle_alert",
        "deposits.view_account",
        "deposits.view_deposit",
        "deposits.view_guarantee",
        "deposits.view_instrument",
        "deposits.view_refund",
        "deposits.view_refundbatch",
        "deposits.view_fxrate",
        "deposits.view_banknotification",
        "deposits.view_journalentry",
        "deposits.view_bankstatement",
        "experts.view_expert",
        "experts.view_drawrequest",
        "experts.view_draw_identities",
        "experts.sign_off_draw",
        "experts.view_rating",
        "bidding.view_evaluation",
        "bidding.view_opening",
        "bidding.view_bid",
        "signing.view_certificate",
        "signing.view_signedact",
        "notifications.view_delivery",
    ],
    Role.AGENT: ["trading.add_project"],
    Role.SUPPLIER: [],
    Role.EXPERT: [],
}


def sync_role_groups(sender: Any = None, **kwargs: Any) -> None:
    """Create the role groups and give each exactly its listed permissions (idempotent)."""
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for dotted in perms:
            app_label, codename = dotted.split(".")
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            # A permission of an app not migrated yet appears on a later post_migrate.
            if permission is not None:
                wanted.append(permission)
        group.permissions.set(wanted)
