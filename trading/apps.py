from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TradingConfig(AppConfig):
    name = "trading"
    verbose_name = _("项目与公告")

    def ready(self) -> None:
        from trading import tasks, todo  # noqa: F401 (tasks registers its clock steps)
        from trading.rules import check_settings

        check_settings()
        todo.register()  # its to-do items (notifications.todo)
