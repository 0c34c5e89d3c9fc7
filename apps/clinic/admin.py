"""Admin (pt-BR). Status changes go through the services, never a bare save."""

import copy

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .models import Agendamento, Atendimento, Dentista, HistoricoStatus, Paciente
from .permissions import papel
from .selectors import agendamentos_visiveis, atendimentos_visiveis


class VisivelPorPapelMixin:
    """The admin shows a staff member only the rows the API would (a dentist: their own)."""

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(pk__in=self.visiveis(request.user).values("pk"))


@admin.register(Paciente)
class PacienteAdmin(VisivelPorPapelMixin, admin.ModelAdmin):
    @staticmethod
    def visiveis(usuario):
        if papel(usuario) == "dentista":
            return Paciente.objects.filter(agendamentos__dentista__usuario=usuario)
        return Paciente.objects.all() if papel(usuario) else Paciente.objects.none()

    list_display = ("nome", "cpf", "telefone", "email")
    search_fields = ("nome", "cpf")
    readonly_fields = ("id_externo", "created_at", "updated_at")


@admin.register(Dentista)
class DentistaAdmin(admin.ModelAdmin):
    list_display = ("nome", "cro", "usuario", "ativo")
    list_filter = ("ativo",)
    search_fields = ("nome", "cro")


class HistoricoStatusInline(admin.TabularInline):
    model = HistoricoStatus
    extra = 0
    can_delete = False
    fields = ("registrado_em", "status_anterior", "status_novo", "ator", "motivo")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AtendimentoInline(admin.StackedInline):
    model = Atendimento
    extra = 0
    can_delete = False
    readonly_fields = ("origem", "created_at", "updated_at")


@admin.register(Agendamento)
class AgendamentoAdmin(VisivelPorPapelMixin, admin.ModelAdmin):
    visiveis = staticmethod(agendamentos_visiveis)

    list_display = ("id", "data_hora", "fim", "paciente", "dentista", "status", "active")
    list_filter = ("status", "active", "dentista")
    date_hierarchy = "data_hora"
    search_fields = ("paciente__nome", "dentista__nome")
    autocomplete_fields = ("paciente", "dentista")
    readonly_fields = ("fim", "status", "active", "id_externo", "created_at", "updated_at")
    list_select_related = ("paciente", "dentista")
    inlines = [AtendimentoInline, HistoricoStatusInline]
    actions = ["finalizar_vencidos"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.active:
            # Closed (concluido/faltou/cancelado): the record of what happened.
            return [f.name for f in self.model._meta.fields]
        if obj is not None:
            # Another patient or dentist is another appointment: cancel and book.
            return [*self.readonly_fields, "paciente", "dentista"]
        return self.readonly_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        formulario = super().get_form(request, obj, change=change, **kwargs)
        retroativo = request.user.has_perm("clinic.agendar_retroativo")

        class FormularioAgendamento(formulario):
            def clean(self):
                dados = super().clean()
                if self.errors or not self.instance.active:
                    return dados
                # The services' own checks, so the admin answers like the API
                # (a form error, not a 500 from the exclusion constraint).
                agendamento = copy.copy(self.instance)
                for campo in ("paciente", "dentista", "data_hora", "duracao_minutos"):
                    if campo in dados:
                        setattr(agendamento, campo, dados[campo])
                try:
                    if not agendamento.dentista.ativo:
                        raise ValidationError(
                            {"dentista": _("Este dentista está inativo e não recebe agendamentos.")}
                        )
                    services.agendamento_validar_horario(
                        agendamento,
                        now=timezone.now(),
                        permitir_retroativo=retroativo,
                        inicio_mudou=self.instance.pk is None or "data_hora" in self.changed_data,
                    )
                except ValidationError as erro:
                    self.add_error(None, erro)
                return dados

        return FormularioAgendamento

    def save_model(self, request, obj, form, change):
        if change:
            # Through the service, and only what the form changed: a full save
            # would write back the status the form loaded, reopening an
            # appointment the worker closed in the meantime.
            if form.changed_data:
                try:
                    services.agendamento_reagendar(
                        obj,
                        usuario=request.user,
                        now=timezone.now(),
                        permitir_retroativo=request.user.has_perm("clinic.agendar_retroativo"),
                        **{campo: getattr(obj, campo) for campo in form.changed_data},
                    )
                except services.TransicaoInvalida as erro:  # closed while the form was open
                    self.message_user(request, erro.mensagem, messages.ERROR)
            return
        # New bookings go through the service, which writes the history.
        novo = services.agendamento_criar(
            paciente=obj.paciente,
            dentista=obj.dentista,
            data_hora=obj.data_hora,
            duracao_minutos=obj.duracao_minutos,
            observacoes=obj.observacoes,
            usuario=request.user,
            permitir_retroativo=request.user.has_perm("clinic.agendar_retroativo"),
        )
        obj.pk = novo.pk
        obj._state = novo._state

    @admin.action(description=_("Finalizar agora os selecionados que já terminaram"))
    def finalizar_vencidos(self, request, queryset):
        now = timezone.now()
        fechados = sum(
            1
            for ag in queryset
            if services.executar_finalizacao(ag, now=now, usuario=request.user) is not None
        )
        self.message_user(
            request,
            ngettext("%d agendamento finalizado.", "%d agendamentos finalizados.", fechados)
            % fechados,
            messages.SUCCESS,
        )


@admin.register(Atendimento)
class AtendimentoAdmin(VisivelPorPapelMixin, admin.ModelAdmin):
    visiveis = staticmethod(atendimentos_visiveis)

    list_display = ("id", "agendamento", "origem", "created_at")
    list_filter = ("origem",)
    readonly_fields = ("origem", "created_at", "updated_at")
    raw_id_fields = ("agendamento",)


@admin.register(HistoricoStatus)
class HistoricoStatusAdmin(VisivelPorPapelMixin, admin.ModelAdmin):
    @staticmethod
    def visiveis(usuario):
        return HistoricoStatus.objects.filter(agendamento__in=agendamentos_visiveis(usuario))

    list_display = ("agendamento", "status_anterior", "status_novo", "registrado_em", "ator")
    list_filter = ("status_novo",)
    raw_id_fields = ("agendamento",)

    # Append-only: visible, never editable.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
