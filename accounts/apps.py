from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("参与方与账户")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from accounts.roles import sync_role_groups

        # After every migrate, so permissions of apps added later reach their role groups too.
        post_migrate.connect(sync_role_groups, dispatch_uid="accounts.sync_role_groups")
