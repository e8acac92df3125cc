from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContractsConfig(AppConfig):
    name = "contracts"
    verbose_name = _("合同与履约")

    def ready(self) -> None:
        from bidding import signals
        from contracts import services, todo

        todo.register()  # its to-do items (notifications.todo)
        signals.award_withdrawn.connect(services.void_drafts)
