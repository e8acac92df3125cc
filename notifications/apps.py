from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("通知")

    def ready(self) -> None:
        # `delivery` registers the clock step that sends email and SMS.
        from clock.consumers import UserChannel, register_user_channel
        from notifications import delivery, live, receivers, todo_sources  # noqa: F401

        # The one app below this one that has news for people (accounts: an organization's
        # application approved or returned) says so with a signal; see receivers.py.
        receivers.connect()
        # The to-do items of accounts and audit rows; the apps above register theirs from their own
        # todo.py (notifications/todo.py).
        todo_sources.register()
        # Every page's clock socket carries its signed-in user's unread count (live.py).
        register_user_channel("notices", UserChannel(live.user_group, live.unread_frame))
