from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    """The supervision workspace (监督工作台): reads every app, changes nothing but alert notes."""

    name = "supervision"
    verbose_name = _("监督工作台")
