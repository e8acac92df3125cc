from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("通知")

    def ready(self) -> None:
        # `delivery` registers the clock step that sends email and SMS (the clock autodiscovers
        # `tasks` modules, which other steps of this app may use).
        from notifications import delivery, receivers  # noqa: F401

        # The one app below this one that has news for people (accounts: an organization's
        # application approved or returned) says so with a signal; see receivers.py.
        receivers.connect()
