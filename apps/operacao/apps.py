from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperacaoConfig(AppConfig):
    """Operations: health and the dead-man check of the sweep, task results (issue 10).

    Depends on apps.clinic (it reads the closing job's records), never the reverse.
    """

    name = "apps.operacao"
    label = "operacao"
    verbose_name = _("Operação")
