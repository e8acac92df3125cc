from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("参与方与账户")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_migrate

        from accounts.roles import sync_role_groups
        from accounts.sessions import record_login

        # After every migrate, so permissions of apps added later reach their role groups too.
        post_migrate.connect(sync_role_groups, dispatch_uid="accounts.sync_role_groups")
        # Every login's session, so that its user can list and end it (accounts/sessions.py).
        user_logged_in.connect(record_login, dispatch_uid="accounts.record_login")
