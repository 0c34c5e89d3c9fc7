"""The admin's "Confirmações" page: whom the front desk should call, and a phone confirmation.

Opens on tomorrow's open, unconfirmed appointments (filters "dia" and
"confirmação"), with the patient's phone and the reminders sent. Read-only
but for one action, "Confirmar (por telefone)", which calls the clinic's
``agendamento_confirmar`` with the user as actor. Rows come from
``api.confirmacoes_do_dia`` (the API's own query, ``agendamentos_visiveis``
inside); the page needs the model permission ``view_agendamentoconfirmacao``
(recepcao and gestor, migration 0004): a dentist gets a 403.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.clinic import services
from apps.clinic.permissions import PAPEIS_AGENDAMENTOS, papel

from .api import FILTROS_CONFIRMACAO, confirmacoes_do_dia
from .models import AgendamentoConfirmacao


class FiltroSemTodos(admin.SimpleListFilter):
    """A filter with a default choice and no "Todos" entry (its absence means the default)."""

    padrao = ""

    def value(self):
        valor = super().value()
        return valor if valor in dict(self.lookup_choices) else self.padrao

    def choices(self, changelist):
        for chave, rotulo in self.lookup_choices:
            yield {
                "selected": self.value() == chave,
                "query_string": changelist.get_query_string({self.parameter_name: chave}),
                "display": rotulo,
            }

    def queryset(self, request, queryset):
        return queryset  # applied by the admin's get_queryset, with the other filter


class DiaFilter(FiltroSemTodos):
    title = _("dia")
    parameter_name = "dia"
    padrao = "amanha"
    DIAS = {"hoje": 0, "amanha": 1, "depois": 2}

    def lookups(self, request, model_admin):
        return [("hoje", _("Hoje")), ("amanha", _("Amanhã")), ("depois", _("Depois de amanhã"))]


class ConfirmacaoFilter(FiltroSemTodos):
    title = _("confirmação")
    parameter_name = "confirmacao"
    padrao = "pendente"

    def lookups(self, request, model_admin):
        return [
            ("pendente", _("Não confirmados")),
            ("confirmado", _("Confirmados")),
            ("todas", _("Todos em aberto")),
        ]


@admin.register(AgendamentoConfirmacao)
class AgendamentoConfirmacaoAdmin(admin.ModelAdmin):
    list_display = ("hora", "paciente_nome", "telefone", "dentista_nome", "status", "lembretes_")
    list_display_links = None
    list_filter = (DiaFilter, ConfirmacaoFilter)
    actions = ["confirmar_por_telefone"]
    ordering = ("data_hora", "id")

    def get_queryset(self, request):
        dia = timezone.localdate() + timedelta(days=DiaFilter.DIAS[self._valor(request, DiaFilter)])
        confirmacao = self._valor(request, ConfirmacaoFilter)
        ids = confirmacoes_do_dia(request.user, dia=dia, confirmacao=confirmacao).values("pk")
        return (
            AgendamentoConfirmacao.objects.filter(pk__in=ids)
            .select_related("paciente", "dentista")
            .prefetch_related("lembretes__regra")
        )

    @staticmethod
    def _valor(request, filtro) -> str:
        valor = request.GET.get(filtro.parameter_name)
        escolhas = DiaFilter.DIAS if filtro is DiaFilter else FILTROS_CONFIRMACAO
        return valor if valor in escolhas else filtro.padrao

    @admin.display(description=_("horário"), ordering="data_hora")
    def hora(self, obj):
        return timezone.localtime(obj.data_hora).strftime("%d/%m %H:%M")

    @admin.display(description=_("paciente"))
    def paciente_nome(self, obj):
        return obj.paciente.nome

    @admin.display(description=_("telefone"))
    def telefone(self, obj):
        return obj.paciente.telefone or "—"

    @admin.display(description=_("dentista"))
    def dentista_nome(self, obj):
        return obj.dentista.nome

    @admin.display(description=_("lembretes"))
    def lembretes_(self, obj):
        """One line per reminder: rule, outcome, the patient's answer."""
        linhas = [
            (
                lembrete.regra.nome,
                lembrete.get_situacao_display(),
                f" · {lembrete.get_resposta_display()}" if lembrete.resposta else "",
            )
            for lembrete in obj.lembretes.all()
            if lembrete.inicio == obj.data_hora
        ]
        if not linhas:
            return "—"
        return format_html_join("", "<div>{}: {}{}</div>", linhas)

    # Read-only, but for the phone confirmation.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_confirmar_permission(self, request):
        return papel(request.user) in PAPEIS_AGENDAMENTOS["confirmar"]

    @admin.action(description=_("Confirmar (por telefone)"), permissions=["confirmar"])
    def confirmar_por_telefone(self, request, queryset):
        now = timezone.now()
        feitos, recusados = 0, []
        for agendamento in queryset.order_by("pk"):
            try:
                services.agendamento_confirmar(agendamento, usuario=request.user, now=now)
            except services.TransicaoInvalida as erro:
                recusados.append((agendamento.pk, erro.mensagem))
            except ValidationError as erro:
                recusados.append((agendamento.pk, " ".join(erro.messages)))
            else:
                feitos += 1
        if feitos or not recusados:
            self.message_user(
                request,
                ngettext("%d agendamento confirmado.", "%d agendamentos confirmados.", feitos)
                % feitos,
                messages.SUCCESS,
            )
        for pk, motivo in recusados:
            self.message_user(
                request,
                _g("Agendamento nº %(id)s não foi alterado: %(motivo)s")
                % {"id": pk, "motivo": motivo},
                messages.ERROR,
            )
