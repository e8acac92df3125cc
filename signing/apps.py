from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SigningConfig(AppConfig):
    name = "signing"
    verbose_name = _("数字证书与电子签名")
    default_auto_field = "django.db.models.BigAutoField"
