from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("审计链")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from audit.services import ensure_chain_head

        post_migrate.connect(ensure_chain_head, sender=self, dispatch_uid="audit.ensure_chain_head")
