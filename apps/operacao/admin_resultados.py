"""Admin: the closing tasks' results (django-celery-results), read-only, for the gestor.

Celery's database result backend (``CELERY_RESULT_BACKEND = "django-db"``)
writes one ``TaskResult`` row when a task ends: its name, state, what it
returned (the per-appointment close: true/false; the sweep: how many it
closed, or null when another run held the lock), its arguments (an
appointment id) and, for a failure, the exception and traceback.
``celery.backend_cleanup`` deletes rows older than RESULTADOS_RETENCAO_DIAS.

Who sees it is decided by the role, as the API's ``papeis`` do
(``apps.clinic.permissions.papel``): the gestor (superusers count as gestor),
not recepcao nor dentista. The role groups hold model permissions of the
clinic's own app only, so no permission of django-celery-results is given to
any group (nothing to migrate, nothing lost when ``grupos_garantir`` re-creates
a group). Nobody adds, changes or deletes a result here: it is a record, and
retention is the periodic task's job.
"""

from __future__ import annotations

import re

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.utils.translation import gettext_lazy as _

# Registers django-celery-results' own admin first (whatever the order of
# INSTALLED_APPS), so it can be replaced here; autodiscover then finds the
# module already imported.
from django_celery_results import admin as _admin_do_pacote  # noqa: F401
from django_celery_results.models import GroupResult, TaskResult

from apps.clinic.models import ANO_MAXIMO, ANO_MINIMO
from apps.clinic.permissions import papel

NOMES_DAS_TAREFAS = {
    "apps.clinic.tasks.processar_agendamento_especifico": _("Fechamento de um agendamento"),
    "apps.clinic.tasks.verificar_e_finalizar_agendamentos_passados": _("Varredura"),
    "celery.backend_cleanup": _("Limpeza dos resultados antigos"),
}
_UM_ID = re.compile(r"^[(\[]\s*(\d+)\s*,?\s*[)\]]$")
_PARTES_DE_DATA = {"year": (ANO_MINIMO, ANO_MAXIMO), "month": (1, 12), "day": (1, 31)}


def _e_gestor(request) -> bool:
    return papel(request.user) == "gestor"


class ResultadoDeTarefaAdmin(admin.ModelAdmin):
    """The results list and detail pages: the gestor's, read-only."""

    list_display = (
        "date_done",
        "tarefa",
        "agendamento",
        "status",
        "result",
        "periodic_task_name",
        "worker",
    )
    list_filter = ("status", "task_name", "date_done")
    search_fields = ("=task_id",)
    ordering = ("-date_done",)
    fields = (
        "task_id",
        "task_name",
        "periodic_task_name",
        "status",
        "result",
        "task_args",
        "task_kwargs",
        "worker",
        "date_created",
        "date_started",
        "date_done",
        "traceback",
    )
    readonly_fields = fields
    # No "Delete selected": nobody deletes here.
    actions = None

    @admin.display(description=_("Tarefa"), ordering="task_name")
    def tarefa(self, obj: TaskResult) -> str:
        """The task's pt-BR name (its Celery name when it is not one of the clinic's)."""
        return NOMES_DAS_TAREFAS.get(obj.task_name or "", obj.task_name or "")

    @admin.display(description=_("Agendamento"))
    def agendamento(self, obj: TaskResult) -> str:
        """The appointment id of a per-appointment close ("" for tasks without one).

        django-celery-results stores the publisher's ``argsrepr``, e.g. ``"(123,)"``.
        """
        if obj.task_name != "apps.clinic.tasks.processar_agendamento_especifico":
            return ""
        encontrado = _UM_ID.match((obj.task_args or "").strip('"'))
        return encontrado.group(1) if encontrado else ""

    def get_changelist_instance(self, request):
        """The changelist; a date lookup outside the clinic's calendar is a bad lookup.

        ``?date_done__year=9999`` makes Django compute the year's end with date
        arithmetic that overflows (a 500); as on the schedule's page
        (``AgendamentoAdmin``), it becomes ``IncorrectLookupParameters``, which
        the admin answers with its redirect to ``?e=1``.
        """
        for chave, valor in request.GET.items():
            parte = chave.rsplit("__", 1)[-1]
            if "__" in chave and parte in _PARTES_DE_DATA:
                menor, maior = _PARTES_DE_DATA[parte]
                numero = valor.isascii() and valor.isdigit()  # "²".isdigit() is True
                if not (numero and menor <= int(valor) <= maior):
                    raise IncorrectLookupParameters(f"{parte} out of range")
        return super().get_changelist_instance(request)

    def has_module_permission(self, request) -> bool:
        return _e_gestor(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return _e_gestor(request)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


admin.site.unregister(TaskResult)
admin.site.register(TaskResult, ResultadoDeTarefaAdmin)
# The project runs no groups or chords: nothing to show.
admin.site.unregister(GroupResult)
