import logging

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperacaoConfig(AppConfig):
    """Operations: health and the dead-man check of the sweep, task results (issue 10).

    Depends on apps.clinic (it reads the closing job's records), never the reverse.
    """

    name = "apps.operacao"
    label = "operacao"
    verbose_name = _("Operação")

    def ready(self) -> None:
        from django.utils import timezone

        from . import deadman

        # The dead-man check's grace before the first sweep counts from here.
        deadman.INICIO_DO_PROCESSO = timezone.now()
        # django-health-check logs every failed probe at WARNING with its
        # traceback; a monitor probing every few seconds would repeat it for
        # the whole outage. Its ERRORs (a check crashing) stay; the dead-man
        # outage is logged once by apps.operacao.deadman.
        # (Unless LOGGING sets a level for it.)
        registro = logging.getLogger("health_check")
        if registro.level == logging.NOTSET:
            registro.setLevel(logging.ERROR)
