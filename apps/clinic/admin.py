"""Admin (pt-BR): a door to the services, with the API's rules.

Every write goes through ``apps.clinic.services``; what each user sees comes
from the same selectors as the API; who may do what is the API's own
declaration (the ``PAPEIS_*`` tables of ``permissions.py``), checked on top of the model
permissions of the user's group. So the admin never lets a role do what the
API refuses, nor shows a dentist another dentist's patients.
"""

from datetime import datetime, time, timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .models import (
    ANO_MAXIMO,
    ANO_MINIMO,
    Agendamento,
    Atendimento,
    Dentista,
    ExecucaoVarredura,
    HistoricoStatus,
    Paciente,
)
from .permissions import (
    PAPEIS_AGENDAMENTOS,
    PAPEIS_ATENDIMENTOS,
    PAPEIS_DENTISTAS,
    PAPEIS_PACIENTES,
    papel,
)
from .selectors import (
    agendamentos_finalizaveis,
    agendamentos_visiveis,
    atendimentos_visiveis,
    pacientes_visiveis,
)

# The clinic's name on every admin page (and the staff calendar, which extends
# them) instead of Django's "Administração do Django".
admin.site.site_header = settings.CLINICA_NOME
admin.site.site_title = settings.CLINICA_NOME
admin.site.index_title = _("Administração da clínica")


def _papel_pode(request, regras: dict, acao: str) -> bool:
    """True when the API allows ``acao`` (a key of a view's ``papeis``) to the user's role."""
    return papel(request.user) in regras.get(acao, regras.get("*", set()))


class DrillDownNoCalendarioMixin:
    """A ``date_hierarchy`` drill-down outside the clinic's calendar is a bad lookup, not a 500.

    Django builds the drill-down's range with date arithmetic that
    overflows at year 9999 (OverflowError, a 500): a year outside
    ANO_MINIMO-ANO_MAXIMO, or a month or day that is not a number, raises
    ``IncorrectLookupParameters``, which the admin answers with its own
    redirect to ``?e=1``. For every admin with a ``date_hierarchy`` (the
    schedule's and the working hours').
    """

    def get_changelist_instance(self, request):
        if self.date_hierarchy:
            for parte, (menor, maior) in {
                "year": (ANO_MINIMO, ANO_MAXIMO),
                "month": (1, 12),
                "day": (1, 31),
            }.items():
                valor = request.GET.get(f"{self.date_hierarchy}__{parte}")
                # isascii(): "²".isdigit() is True and int("²") raises ValueError.
                numero = valor is not None and valor.isascii() and valor.isdigit()
                if valor is not None and not (numero and menor <= int(valor) <= maior):
                    raise IncorrectLookupParameters(f"{parte} out of range")
        return super().get_changelist_instance(request)


class VisivelPorPapelMixin:
    """The admin shows a staff member only the rows the API would (a dentist: their own)."""

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(pk__in=self.visiveis(request.user).values("pk"))


class RegrasDaApiMixin:
    """Model permissions AND the API's role rule for the same operation.

    ``regras`` is the viewset's ``papeis``: viewing needs "list", adding
    "create", changing "update", deleting "destroy" (absent: nobody).
    """

    regras: dict = {}

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and _papel_pode(
            request, self.regras, "list"
        )

    def has_add_permission(self, request):
        return super().has_add_permission(request) and _papel_pode(request, self.regras, "create")

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and _papel_pode(
            request, self.regras, "update"
        )

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and _papel_pode(
            request, self.regras, "destroy"
        )


def _erros_no_formulario(formulario: forms.BaseForm, erro: ValidationError) -> None:
    """Put a service's ValidationError on the form: by field where the form has it."""
    if hasattr(erro, "error_dict"):
        for campo, lista in erro.error_dict.items():
            formulario.add_error(campo if campo in formulario.fields else None, lista)
    else:
        formulario.add_error(None, erro)


class FormularioPorServico(forms.ModelForm):
    """A ModelForm whose saving is one service call, made as the last step of validation.

    ``salvar()`` calls the service and returns the saved instance. It runs
    after every field and model check passed, so a refusal of the service
    (``ValidationError``, ``TransicaoInvalida``) becomes a form error in its
    own pt-BR words, never a 500, and nothing is written then. The admin's
    change view wraps the request in one transaction, so the log entry and
    the service's rows commit together. The admin's ``save_model`` must not
    save again (see ``SalvoPeloServicoMixin``). ``usuario`` is set by the
    ModelAdmin's ``get_form``.
    """

    usuario = None

    def salvar(self):
        raise NotImplementedError

    def _post_clean(self):
        super()._post_clean()
        if self.errors:
            return
        try:
            self.instance = self.salvar()
        except services.TransicaoInvalida as erro:
            self.add_error(None, erro.mensagem)
        except ValidationError as erro:
            _erros_no_formulario(self, erro)


class SalvoPeloServicoMixin:
    """For a ModelAdmin whose forms are ``FormularioPorServico``: the service saved already."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        formulario = super().get_form(request, obj, change=change, **kwargs)
        return type(formulario.__name__, (formulario,), {"usuario": request.user})

    def save_model(self, request, obj, form, change):
        pass

    def render_change_form(self, request, context, *args, **kwargs):
        formulario = context["adminform"].form
        if request.method == "POST" and formulario.is_bound and not formulario.errors:
            # The form was valid, so the service wrote, but an inline's data was
            # not (e.g. its management form missing) and the page says nothing
            # was saved: make it true. The admin's view runs in one atomic block.
            transaction.set_rollback(True)
        return super().render_change_form(request, context, *args, **kwargs)


@admin.register(Paciente)
class PacienteAdmin(VisivelPorPapelMixin, RegrasDaApiMixin, admin.ModelAdmin):
    visiveis = staticmethod(pacientes_visiveis)
    regras = PAPEIS_PACIENTES

    list_display = ("nome", "cpf", "telefone", "email")
    search_fields = ("nome", "cpf")
    readonly_fields = ("id_externo", "created_at", "updated_at")


@admin.register(Dentista)
class DentistaAdmin(RegrasDaApiMixin, admin.ModelAdmin):
    regras = PAPEIS_DENTISTAS
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


# Every field of a visit record but its id, in the model's order.
CAMPOS_ATENDIMENTO = tuple(f.name for f in Atendimento._meta.fields if f.name != "id")


class AtendimentoInline(admin.StackedInline):
    """The visit record on its appointment's page: read-only (its own page edits it)."""

    model = Atendimento
    extra = 0
    can_delete = False
    show_change_link = True
    fields = tuple(f for f in CAMPOS_ATENDIMENTO if f != "agendamento")
    readonly_fields = fields

    def has_view_permission(self, request, obj=None):
        # The clinical record: the roles the API shows it to (never recepcao).
        return super().has_view_permission(request, obj) and _papel_pode(
            request, PAPEIS_ATENDIMENTOS, "retrieve"
        )

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AgendamentoForm(FormularioPorServico):
    """Add = ``agendamento_criar``; change = ``agendamento_reagendar`` of what the form changed.

    Only the changed fields go to the service: a full save would write back
    the status the form loaded, reopening an appointment the worker closed
    in the meantime (the service then refuses: a form error). The services
    check the time (double booking, back-dating needs
    ``clinic.agendar_retroativo``) and the dentist, with their own messages.
    """

    fora_do_expediente = forms.BooleanField(
        label=_("Agendar fora do expediente"),
        required=False,
        help_text=_(
            "Aceitar mesmo fora do horário do dentista, numa folga ou num feriado. "
            "Fica registrado no histórico."
        ),
    )

    def salvar(self):
        dados = self.cleaned_data
        fora = bool(dados.get("fora_do_expediente"))
        if fora and not self.usuario.has_perm("clinic.agendar_fora_do_expediente"):
            raise ValidationError(
                {
                    "fora_do_expediente": _(
                        "Você não tem permissão para agendar fora do expediente do dentista."
                    )
                }
            )
        comum = {
            "usuario": self.usuario,
            "now": timezone.now(),
            "permitir_retroativo": self.usuario.has_perm("clinic.agendar_retroativo"),
            "permitir_fora_do_expediente": fora,
        }
        if self.instance._state.adding:
            return services.agendamento_criar(
                paciente=dados["paciente"],
                dentista=dados["dentista"],
                data_hora=dados["data_hora"],
                duracao_minutos=dados["duracao_minutos"],
                observacoes=dados.get("observacoes", ""),
                **comum,
            )
        mudou = {
            campo: dados[campo]
            for campo in self.changed_data
            if campo in ("data_hora", "duracao_minutos", "observacoes")
        }
        if not mudou:
            return self.instance
        return services.agendamento_reagendar(self.instance, **mudou, **comum)


def _acao_de_servico(nome: str, *, descricao, permissao: str, feito: tuple[str, str]):
    """An admin action calling ``services.<nome>(agendamento, usuario=..., now=...)`` on each row.

    ``permissao`` names the ``has_<permissao>_permission`` check; ``feito`` is
    the (singular, plural) pt-BR report, with ``%d`` for the count.
    """

    @admin.action(description=descricao, permissions=[permissao])
    def acao(modelo, request, queryset):
        now = timezone.now()
        servico = getattr(services, nome)
        modelo._aplicar(
            request,
            queryset,
            lambda ag: servico(ag, usuario=request.user, now=now),
            feito=feito,
        )

    return acao


def _inicio_do_dia(dia) -> datetime:
    """Local midnight (the clinic's zone, TIME_ZONE) starting ``dia``, aware."""
    return timezone.make_aware(datetime.combine(dia, time.min))


class DiaFilter(admin.SimpleListFilter):
    """The appointment list's day, in the clinic's calendar: today unless asked otherwise.

    The list opens on today (``?dia`` absent), so after an import of ten
    years of history the front desk still lands on the day's work. "Todos"
    (``?dia=todos``) is the whole schedule. A search (``?q``) or a
    drill-down of the date hierarchy without ``?dia`` also looks at every
    day: someone looking for a patient or a date means all of them.
    """

    title = _("dia")
    parameter_name = "dia"
    HOJE, AMANHA, SEMANA, TODOS = "hoje", "amanha", "7dias", "todos"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self._padrao_todos = bool(request.GET.get("q")) or any(
            chave.startswith(f"{model_admin.date_hierarchy}__") for chave in request.GET
        )

    def lookups(self, request, model_admin):
        return [
            (self.HOJE, _("Hoje")),
            (self.AMANHA, _("Amanhã")),
            (self.SEMANA, _("Próximos 7 dias")),
            (self.TODOS, _("Todos")),
        ]

    def escolhido(self) -> str:
        valor = self.value()
        if valor in (self.HOJE, self.AMANHA, self.SEMANA, self.TODOS):
            return valor
        return self.TODOS if self._padrao_todos else self.HOJE

    def has_output(self) -> bool:
        return True

    def choices(self, changelist):
        escolhido = self.escolhido()
        for valor, rotulo in self.lookup_choices:
            yield {
                "selected": escolhido == valor,
                "query_string": changelist.get_query_string({self.parameter_name: valor}),
                "display": rotulo,
            }

    def queryset(self, request, queryset):
        hoje = timezone.localdate()
        intervalo = {
            self.HOJE: (hoje, hoje + timedelta(days=1)),
            self.AMANHA: (hoje + timedelta(days=1), hoje + timedelta(days=2)),
            # Today and the six days after it: a week of work, today included.
            self.SEMANA: (hoje, hoje + timedelta(days=7)),
        }.get(self.escolhido())
        if intervalo is None:
            return queryset
        inicio, fim = intervalo
        return queryset.filter(
            data_hora__gte=_inicio_do_dia(inicio), data_hora__lt=_inicio_do_dia(fim)
        )


# The badge's colours per status (background, text): open in blue/green, closed in greys/red.
CORES_SITUACAO = {
    Agendamento.Status.AGENDADO: ("#dbeafe", "#1e3a8a"),
    Agendamento.Status.CONFIRMADO: ("#dcfce7", "#14532d"),
    Agendamento.Status.CONCLUIDO: ("#e5e7eb", "#374151"),
    Agendamento.Status.FALTOU: ("#fee2e2", "#7f1d1d"),
    Agendamento.Status.CANCELADO: ("#f3f4f6", "#6b7280"),
}


@admin.register(Agendamento)
class AgendamentoAdmin(
    DrillDownNoCalendarioMixin,
    VisivelPorPapelMixin,
    SalvoPeloServicoMixin,
    RegrasDaApiMixin,
    admin.ModelAdmin,
):
    visiveis = staticmethod(agendamentos_visiveis)
    regras = PAPEIS_AGENDAMENTOS

    list_display = ("id", "situacao", "horario", "paciente_nome", "dentista_nome", "duracao")
    list_display_links = ("id", "horario")
    list_filter = (DiaFilter, "status", "dentista")
    # Newest first within the chosen day(s).
    ordering = ("-data_hora", "-id")
    list_per_page = 100
    date_hierarchy = "data_hora"
    search_fields = ("paciente__nome", "dentista__nome")
    autocomplete_fields = ("paciente", "dentista")
    readonly_fields = ("fim", "status", "active", "id_externo", "created_at", "updated_at")
    list_select_related = ("paciente", "dentista")
    inlines = [AtendimentoInline, HistoricoStatusInline]
    actions = ["confirmar", "cancelar", "marcar_falta", "finalizar_vencidos", "reabrir"]

    @admin.display(description=_("situação"), ordering="status")
    def situacao(self, obj):
        fundo, cor = CORES_SITUACAO.get(obj.status, ("#f3f4f6", "#111827"))
        return format_html(
            '<span style="background:{};color:{};padding:1px 8px;border-radius:9px;'
            'white-space:nowrap;font-weight:600">{}</span>',
            fundo,
            cor,
            obj.get_status_display(),
        )

    @admin.display(description=_("horário"), ordering="data_hora")
    def horario(self, obj):
        inicio = timezone.localtime(obj.data_hora)
        fim = timezone.localtime(obj.fim) if obj.fim else None
        return format_html(
            '<span style="white-space:nowrap">{} {}–{}</span>',
            inicio.strftime("%d/%m/%Y"),
            inicio.strftime("%H:%M"),
            fim.strftime("%H:%M") if fim else "?",
        )

    @admin.display(description=_("paciente"), ordering="paciente__nome")
    def paciente_nome(self, obj):
        return obj.paciente.nome

    @admin.display(description=_("dentista"), ordering="dentista__nome")
    def dentista_nome(self, obj):
        return obj.dentista.nome

    @admin.display(description=_("min"), ordering="duracao_minutos")
    def duracao(self, obj):
        return obj.duracao_minutos

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.active:
            # Closed (concluido/faltou/cancelado): the record of what happened.
            return [f.name for f in self.model._meta.fields]
        if obj is not None:
            # Another patient or dentist is another appointment: cancel and book.
            return [*self.readonly_fields, "paciente", "dentista"]
        return self.readonly_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = AgendamentoForm
        formulario = super().get_form(request, obj, change=change, **kwargs)
        if not self._oferece_fora_do_expediente(request, obj):
            # A declared field stays on a ModelForm whatever ``fields`` says: a
            # POST with the box (crafted, it is not on this user's page) got its
            # refusal on a field the page never shows. Without it, it is ignored.
            formulario.base_fields.pop("fora_do_expediente", None)
        return formulario

    @staticmethod
    def _oferece_fora_do_expediente(request, obj) -> bool:
        """The override box: for those who may book outside hours, on an open appointment."""
        return request.user.has_perm("clinic.agendar_fora_do_expediente") and (
            obj is None or obj.active
        )

    def get_fields(self, request, obj=None):
        """The form's fields; the override box only for those who may book outside hours."""
        campos = list(super().get_fields(request, obj))
        if not self._oferece_fora_do_expediente(request, obj):
            campos = [c for c in campos if c != "fora_do_expediente"]
        return campos

    # The actions: each one is the API's transition of the same name, offered
    # only to the roles the API allows it (``has_<acao>_permission``; Django
    # drops an action the user lacks from the list and refuses it if posted).

    def has_confirmar_permission(self, request):
        return _papel_pode(request, self.regras, "confirmar")

    def has_cancelar_permission(self, request):
        return _papel_pode(request, self.regras, "cancelar")

    def has_marcar_falta_permission(self, request):
        return _papel_pode(request, self.regras, "marcar_falta")

    def has_finalizar_permission(self, request):
        return _papel_pode(request, self.regras, "finalizar")

    def has_reabrir_permission(self, request):
        return _papel_pode(request, self.regras, "reabrir")

    def _aplicar(self, request, queryset, servico, *, feito: tuple[str, str]) -> None:
        """Run ``servico(agendamento)`` on each selected row; report counts and refusals.

        Each call is its own transaction (the services are atomic): one
        refusal does not undo the others. Refusals name the appointment by
        number, with the service's own pt-BR reason (never the patient).
        """
        feitos, recusados = 0, []
        for agendamento in queryset.order_by("pk"):
            try:
                resultado = servico(agendamento)
            except services.TransicaoInvalida as erro:
                recusados.append((agendamento.pk, erro.mensagem))
            except ValidationError as erro:
                recusados.append((agendamento.pk, " ".join(erro.messages)))
            else:
                if resultado is None:  # executar_finalizacao: nothing to close
                    recusados.append(
                        (
                            agendamento.pk,
                            _g(
                                "não está em aberto, ainda não terminou ou foi reaberto "
                                "(feche-o com o atendimento)."
                            ),
                        )
                    )
                else:
                    feitos += 1
        if feitos or not recusados:
            self.message_user(
                request,
                ngettext(*feito, feitos) % feitos,
                messages.SUCCESS,
            )
        for pk, motivo in recusados:
            self.message_user(
                request,
                _g("Agendamento nº %(id)s não foi alterado: %(motivo)s")
                % {"id": pk, "motivo": motivo},
                messages.ERROR,
            )

    confirmar = _acao_de_servico(
        "agendamento_confirmar",
        descricao=_("Confirmar os selecionados"),
        permissao="confirmar",
        feito=("%d agendamento confirmado.", "%d agendamentos confirmados."),
    )
    marcar_falta = _acao_de_servico(
        "agendamento_marcar_falta",
        descricao=_("Marcar falta nos selecionados"),
        permissao="marcar_falta",
        feito=("%d agendamento marcado como falta.", "%d agendamentos marcados como falta."),
    )
    finalizar_vencidos = _acao_de_servico(
        "executar_finalizacao",
        descricao=_("Finalizar agora os selecionados que já terminaram"),
        permissao="finalizar",
        feito=("%d agendamento finalizado.", "%d agendamentos finalizados."),
    )
    reabrir = _acao_de_servico(
        "agendamento_reabrir",
        descricao=_("Desfazer o fechamento automático dos selecionados"),
        permissao="reabrir",
        feito=("%d agendamento reaberto.", "%d agendamentos reabertos."),
    )

    @admin.action(
        description=_("Cancelar os selecionados (pede o motivo)"), permissions=["cancelar"]
    )
    def cancelar(self, request, queryset):
        """First an intermediate page asks the reason; its POST (``post``) cancels."""
        formulario = MotivoCancelamentoForm(request.POST if "post" in request.POST else None)
        if formulario.is_valid():
            now = timezone.now()
            motivo = formulario.cleaned_data["motivo"]
            self._aplicar(
                request,
                queryset,
                lambda ag: services.agendamento_cancelar(
                    ag, usuario=request.user, now=now, motivo=motivo
                ),
                feito=("%d agendamento cancelado.", "%d agendamentos cancelados."),
            )
            return None
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request,
            "admin/clinic/agendamento/cancelar_selecionados.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Cancelar agendamentos"),
                "opts": self.model._meta,
                "queryset": queryset.order_by("data_hora", "pk"),
                "form": formulario,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "media": self.media,
            },
        )


class MotivoCancelamentoForm(forms.Form):
    motivo = forms.CharField(
        label=_("Motivo do cancelamento"), widget=forms.Textarea(attrs={"rows": 3, "cols": 60})
    )


class EscolhaAgendamento(forms.ModelChoiceField):
    """An appointment named by number, start, patient and dentist (the user may see them all)."""

    def label_from_instance(self, obj):
        return _g("nº %(id)s — %(inicio)s — %(paciente)s, com %(dentista)s") % {
            "id": obj.pk,
            "inicio": timezone.localtime(obj.data_hora).strftime("%d/%m/%Y %H:%M"),
            "paciente": obj.paciente,
            "dentista": obj.dentista,
        }


class AtendimentoFinalizarForm(FormularioPorServico):
    """Add = close the chosen appointment with this record (``agendamento_finalizar``).

    A plain select, not a raw-id lookup: it lists only the user's visible,
    open, started appointments (``agendamentos_finalizaveis``), so another
    dentist's or a cancelled appointment is "not one of the choices".
    """

    agendamento = EscolhaAgendamento(queryset=Agendamento.objects.none(), label=_("agendamento"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agendamento"].queryset = agendamentos_finalizaveis(
            self.usuario, now=timezone.now()
        )

    def salvar(self):
        dados = self.cleaned_data
        return services.agendamento_finalizar(
            dados["agendamento"],
            usuario=self.usuario,
            now=timezone.now(),
            diagnostico=dados.get("diagnostico", ""),
            tratamento_realizado=dados.get("tratamento_realizado", ""),
        )


class AtendimentoAlterarForm(FormularioPorServico):
    """Change = ``atendimento_atualizar``: an automatic record edited is marked reviewed."""

    def salvar(self):
        dados = self.cleaned_data
        return services.atendimento_atualizar(
            self.instance,
            usuario=self.usuario,
            now=timezone.now(),
            diagnostico=dados.get("diagnostico"),
            tratamento_realizado=dados.get("tratamento_realizado"),
        )


@admin.register(Atendimento)
class AtendimentoAdmin(
    VisivelPorPapelMixin, SalvoPeloServicoMixin, RegrasDaApiMixin, admin.ModelAdmin
):
    visiveis = staticmethod(atendimentos_visiveis)
    regras = PAPEIS_ATENDIMENTOS

    list_display = ("id", "agendamento", "origem", "revisado_em", "created_at")
    list_filter = ("origem",)
    list_select_related = ("agendamento",)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("agendamento", "diagnostico", "tratamento_realizado")
        return CAMPOS_ATENDIMENTO

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # The appointment of a record never changes: moving a record is
        # closing another appointment, which only agendamento_finalizar does.
        return ("agendamento", "origem", "revisado_em", "revisado_por", "created_at", "updated_at")

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = AtendimentoAlterarForm if obj is not None else AtendimentoFinalizarForm
        return super().get_form(request, obj, change=change, **kwargs)

    def has_delete_permission(self, request, obj=None):
        # The API deletes no record; only agendamento_reabrir removes an automatic one.
        return False


@admin.register(HistoricoStatus)
class HistoricoStatusAdmin(VisivelPorPapelMixin, RegrasDaApiMixin, admin.ModelAdmin):
    regras = {"list": PAPEIS_AGENDAMENTOS["historico"]}

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


@admin.register(ExecucaoVarredura)
class ExecucaoVarreduraAdmin(admin.ModelAdmin):
    """The sweep's run records (the dead-man check's input): read-only, for the gestor.

    By role, not by model permission: the gestor group got its permissions
    when it was created (migration 0002), before this model existed.
    """

    list_display = (
        "id",
        "iniciada_em",
        "terminada_em",
        "resultado",
        "fechados",
        "ignorados",
        "task_id",
    )
    list_filter = ("resultado",)
    readonly_fields = list_display

    def has_module_permission(self, request):
        return papel(request.user) == "gestor"

    def has_view_permission(self, request, obj=None):
        return papel(request.user) == "gestor"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
