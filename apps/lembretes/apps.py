from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _garantir_agenda(sender, using="default", **kwargs) -> None:
    from .services import agenda_lembretes_garantir

    if using == "default":
        agenda_lembretes_garantir()


class LembretesConfig(AppConfig):
    """Appointment reminders and the patient's confirmation page (issue 11).

    Depends on ``apps.clinic`` (its models, services and selectors); the
    clinic never imports this app.
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.lembretes"
    verbose_name = _("Lembretes")

    def ready(self) -> None:
        # After `migrate` (as apps.clinic does for the sweep): Beat has the
        # reminders' finder in its schedule. Not a query in ready() itself:
        # the database may not exist yet.
        post_migrate.connect(
            _garantir_agenda, sender=self, dispatch_uid="lembretes.garantir_agenda"
        )
