from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _garantir_agenda(sender, using="default", **kwargs) -> None:
    from .permissions import grupos_garantir
    from .services import agenda_finalizacao_garantir

    if using == "default":
        agenda_finalizacao_garantir()
        grupos_garantir()


class ClinicConfig(AppConfig):
    name = "apps.clinic"
    label = "clinic"
    verbose_name = _("Clínica")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the post_save receiver)

        # After `migrate`: Beat has the sweep in its schedule, the roles exist.
        post_migrate.connect(_garantir_agenda, sender=self, dispatch_uid="clinic.garantir_agenda")
