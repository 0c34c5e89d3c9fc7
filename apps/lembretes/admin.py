"""Admin of the reminders: the rules (the gestor's) and the record of every reminder (read-only).

Who may do what follows the role (``apps.clinic.permissions.papel``, as the
API's ``papeis`` and apps/operacao/admin_resultados.py do): the gestor
(superusers count as gestor) edits the rules; recepcao sees them and the
reminders; dentista nothing here. The role decides rather than the groups'
model permissions, so a role group re-created by ``grupos_garantir`` (which
knows only the clinic's permissions) keeps its access. The front desk's page
(``AgendamentoConfirmacao``) is in admin_recepcao.py.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from apps.clinic.permissions import papel

from .modelos import exemplo, renderizar
from .models import Lembrete, RegraLembrete

VEEM = {"gestor", "recepcao"}
EDITAM = {"gestor"}


def _papel_em(request, papeis: set[str]) -> bool:
    return papel(request.user) in papeis


@admin.register(RegraLembrete)
class RegraLembreteAdmin(admin.ModelAdmin):
    """The rules: the gestor adds and edits them (no delete: switch a rule off instead)."""

    list_display = ("nome", "antecedencia_minutos", "tolerancia_minutos", "canal", "ativa")
    list_filter = ("ativa", "canal")
    fields = (
        "nome",
        "ativa",
        "canal",
        "antecedencia_minutos",
        "tolerancia_minutos",
        "assunto",
        "modelo",
        "pre_visualizacao",
    )
    readonly_fields = ("pre_visualizacao",)
    actions = None

    @admin.display(description=_("pré-visualização (dados de exemplo)"))
    def pre_visualizacao(self, obj: RegraLembrete | None) -> str:
        # The model's clean() validated the template on save; rendering never raises.
        if obj is None or not obj.pk:
            return "—"
        dados = exemplo()
        return format_html(
            "<strong>{}</strong><br><pre style='white-space: pre-wrap'>{}</pre>",
            renderizar(obj.assunto, dados),
            renderizar(obj.modelo, dados),
        )

    def has_module_permission(self, request):
        return _papel_em(request, VEEM)

    def has_view_permission(self, request, obj=None):
        return _papel_em(request, VEEM)

    def has_add_permission(self, request):
        return _papel_em(request, EDITAM)

    def has_change_permission(self, request, obj=None):
        return _papel_em(request, EDITAM)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Lembrete)
class LembreteAdmin(admin.ModelAdmin):
    """Every reminder written by the finder and what became of it; nobody changes it here."""

    list_display = (
        "id",
        "agendamento",
        "regra",
        "canal",
        "inicio_local",
        "situacao",
        "motivo",
        "tentativas",
        "enviado_em",
        "detalhe",
    )
    list_filter = ("situacao", "motivo", "regra", "canal")
    list_select_related = ("regra",)
    search_fields = ("=agendamento__id",)
    fields = (
        "agendamento",
        "regra",
        "canal",
        "inicio",
        "previsto_para",
        "situacao",
        "motivo",
        "detalhe",
        "tentativas",
        "proxima_tentativa_em",
        "enviado_em",
        "resposta",
        "respondido_em",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    actions = None

    @admin.display(description=_("início do agendamento"), ordering="inicio")
    def inicio_local(self, obj: Lembrete) -> str:
        return timezone.localtime(obj.inicio).strftime("%d/%m/%Y %H:%M")

    def has_module_permission(self, request):
        return _papel_em(request, VEEM)

    def has_view_permission(self, request, obj=None):
        return _papel_em(request, VEEM)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# The front desk's page (the proxy AgendamentoConfirmacao): its own module.
from . import admin_recepcao  # noqa: E402, F401
