"""Admin of the working hours (pt-BR): the gestor keeps them, the others look.

The clinic's admin rules, reused: ``RegrasDaApiMixin`` checks the group's
model permissions AND the role table (``permissions.PAPEIS_EXPEDIENTE``):
the gestor adds, changes and deletes; recepcao and dentista only view.
``VisivelPorPapelMixin`` shows each role the rows the selectors give it (a
dentist: their own plan, absences and extra days; the clinic's closures
are everyone's). The rows are plain data checked by the models' ``clean()``
(overlaps, date order, years), which the admin's forms run. A date
drill-down outside 1900-2100 is a bad lookup (``DrillDownNoCalendarioMixin``).
"""

from django.contrib import admin, messages
from django.db import IntegrityError
from django.http import HttpResponseRedirect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.clinic.admin import DrillDownNoCalendarioMixin, RegrasDaApiMixin, VisivelPorPapelMixin

from .models import Ausencia, DiaExtra, Fechamento, Jornada
from .permissions import PAPEIS_EXPEDIENTE
from .selectors import (
    ausencias_visiveis,
    dias_extras_visiveis,
    fechamentos_visiveis,
    jornadas_visiveis,
)

# Only the dentists the user can see rows of (a dentist: themself).
POR_DENTISTA = ("dentista", admin.RelatedOnlyFieldListFilter)


class ExpedienteAdmin(
    DrillDownNoCalendarioMixin, VisivelPorPapelMixin, RegrasDaApiMixin, admin.ModelAdmin
):
    regras = PAPEIS_EXPEDIENTE
    list_per_page = 50


@admin.register(Jornada)
class JornadaAdmin(ExpedienteAdmin):
    visiveis = staticmethod(jornadas_visiveis)
    list_display = ("dentista", "dia_semana", "inicio", "fim")
    list_filter = (POR_DENTISTA, "dia_semana")
    list_select_related = ("dentista",)
    fields = ("dentista", "dia_semana", "inicio", "fim")

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """The form; an overlap that another save committed after this form's check is a message.

        ``Jornada.clean()`` refuses an overlap it can see; two gestores (or
        two tabs) saving overlapping intervals at once both pass it, and
        PostgreSQL's ``jornada_sem_sobreposicao`` refuses the second INSERT
        (an IntegrityError: a 500). The admin's transaction is rolled back
        by then; the user is sent back to the same form with the pt-BR reason.
        """
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except IntegrityError as exc:
            if "jornada_sem_sobreposicao" not in str(exc):
                raise
            messages.error(
                request, gettext("Este intervalo se sobrepõe a outro do mesmo dia da semana.")
            )
            return HttpResponseRedirect(request.get_full_path())


@admin.register(Ausencia)
class AusenciaAdmin(ExpedienteAdmin):
    visiveis = staticmethod(ausencias_visiveis)
    list_display = ("dentista", "tipo", "data_inicio", "data_fim", "horas", "motivo")
    list_filter = (POR_DENTISTA, "tipo")
    list_select_related = ("dentista",)
    date_hierarchy = "data_inicio"
    fields = ("dentista", "tipo", "data_inicio", "data_fim", "hora_inicio", "hora_fim", "motivo")

    @admin.display(description=_("horas"))
    def horas(self, obj: Ausencia) -> str:
        if obj.hora_inicio is None:
            return str(_("o dia todo"))
        return f"{obj.hora_inicio:%H:%M}–{obj.hora_fim:%H:%M}"


@admin.register(DiaExtra)
class DiaExtraAdmin(ExpedienteAdmin):
    visiveis = staticmethod(dias_extras_visiveis)
    list_display = ("dentista", "data", "inicio", "fim", "motivo")
    list_filter = (POR_DENTISTA,)
    list_select_related = ("dentista",)
    date_hierarchy = "data"
    fields = ("dentista", "data", "inicio", "fim", "motivo")


@admin.register(Fechamento)
class FechamentoAdmin(ExpedienteAdmin):
    visiveis = staticmethod(fechamentos_visiveis)
    list_display = ("descricao", "data_inicio", "data_fim")
    date_hierarchy = "data_inicio"
    search_fields = ("descricao",)
    fields = ("descricao", "data_inicio", "data_fim")
