from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DepositsConfig(AppConfig):
    name = "deposits"
    verbose_name = _("保证金")

    def ready(self) -> None:
        # Imported here, not at the top: Django loads apps.py before any model exists.
        from deposits import services, todo
        from trading import signals

        # A terminated project's deposits all come back (条例 Art.31), in the termination's
        # transaction; trading announces it and never imports deposits.
        signals.project_terminated.connect(
            services.refund_on_project_terminated, dispatch_uid="deposits.refund_on_termination"
        )
        todo.register()  # its to-do items (notifications.todo)
