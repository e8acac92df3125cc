from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FrameworksConfig(AppConfig):
    # Its clock step (frameworks/tasks.py) is found by clock's autodiscovery.
    name = "frameworks"
    verbose_name = _("框架协议")
