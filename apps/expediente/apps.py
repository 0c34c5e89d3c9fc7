from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _garantir_permissoes(sender, using="default", **kwargs) -> None:
    from .permissions import permissoes_garantir

    if using == "default":
        permissoes_garantir()


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
        from apps.clinic.signals import demo_criada

        from .receivers import dar_jornada_aos_dentistas_da_demo

        # `manage.py demo` (the clinic's) gives its dentists a weekly plan here.
        demo_criada.connect(
            dar_jornada_aos_dentistas_da_demo, dispatch_uid="expediente.jornada_da_demo"
        )
        # After `migrate` (and after the clinic's grupos_garantir, this app
        # being later in INSTALLED_APPS): the role groups have this app's
        # permissions. Not a query in ready(): the database may not exist yet.
        post_migrate.connect(
            _garantir_permissoes, sender=self, dispatch_uid="expediente.garantir_permissoes"
        )
