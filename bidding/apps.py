from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BiddingConfig(AppConfig):
    name = "bidding"
    verbose_name = _("投标与开评标")

    def ready(self) -> None:
        # Imported here, not at the top: Django loads apps.py before any model exists.
        from bidding import evaluation, services, todo
        from bidding.land import services as land  # noqa: F401 (registers its phase-close hooks)
        from experts import keys
        from trading import signals

        # Apps below bidding ask it for the project key (expert draws) and for which lots failed
        # (re-tendering) through these registrations; they never import bidding.
        keys.register(services.DrawSeals())
        signals.register_failed_lots(services.FailedLots())
        signals.project_resumed.connect(evaluation.give_back_paused_time)
        todo.register()  # its to-do items (notifications.todo)
