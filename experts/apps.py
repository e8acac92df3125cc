from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExpertsConfig(AppConfig):
    name = "experts"
    verbose_name = _("评标专家")

    def ready(self) -> None:
        from experts import todo

        todo.register()  # its to-do items (notifications.todo)
