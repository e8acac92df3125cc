from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    name = "complaints"
    verbose_name = _("投诉处理")

    def ready(self) -> None:
        from complaints import todo

        todo.register()  # its to-do items (notifications.todo)
