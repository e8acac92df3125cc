from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClockConfig(AppConfig):
    name = "clock"
    verbose_name = _("时钟任务")

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        # Each app declares its time-based steps in `<app>/tasks.py` with @clock.registry.step.
        autodiscover_modules("tasks")
