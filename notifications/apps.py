from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("通知")

    def ready(self) -> None:
        from notifications import receivers

        # The one app below this one that has news for people (accounts: an organization's
        # application approved or returned) says so with a signal; see receivers.py.
        receivers.connect()
