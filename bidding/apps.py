from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BiddingConfig(AppConfig):
    name = "bidding"
    verbose_name = _("投标与开评标")

    def ready(self) -> None:
        # The land listing registers what happens when each of its auction phases closes.
        from bidding.land import services  # noqa: F401
