from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExpedienteConfig(AppConfig):
    """Working hours: weekly plans, their exceptions, clinic closures and holidays (issue 12).

    Depends on ``apps.clinic``; the clinic never imports this app. Its rule
    (``regras.validar_expediente``) joins the clinic's booking rules through
    ``apps.clinic.regras`` when the app is ready, so every door that books
    or reschedules obeys it.
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.expediente"
    verbose_name = _("Expediente")

    def ready(self) -> None:
        from apps.clinic.regras import registrar_regra_de_horario

        from .regras import validar_expediente

        registrar_regra_de_horario("expediente", validar_expediente)
