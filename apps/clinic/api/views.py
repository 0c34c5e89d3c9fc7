"""REST API views: thin. Reads through selectors, every write through services.

Who may do what is declared per action in ``papeis`` (see
``apps.clinic.permissions``); what a user may see is limited by the
queryset, so another dentist's row answers 404, not 403.
"""

from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.clinic import services
from apps.clinic.models import Agendamento, Atendimento, Dentista, Paciente
from apps.clinic.permissions import (
    PAPEIS_AGENDAMENTOS,
    PAPEIS_ATENDIMENTOS,
    PAPEIS_DENTISTAS,
    PAPEIS_PACIENTES,
    TemPapel,
    papel,
)
from apps.clinic.selectors import (
    agendamentos_com_nomes,
    agendamentos_visiveis,
    agendamentos_visiveis_com_nomes,
    atendimentos_visiveis,
)

from .filters import AgendamentoFilter, AtendimentoFilter, dia_do_parametro, inicio_do_dia
from .serializers import (
    AgendamentoCriarSerializer,
    AgendamentoReagendarSerializer,
    AgendamentoSerializer,
    AtendimentoAtualizarSerializer,
    AtendimentoCriarSerializer,
    AtendimentoSerializer,
    CancelarSerializer,
    DentistaSerializer,
    FinalizarSerializer,
    HistoricoStatusSerializer,
    PacienteSerializer,
    ReabrirSerializer,
    RelatorioSerializer,
    VazioSerializer,
)


class SomenteCadastro(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [TemPapel]


class PacienteViewSet(SomenteCadastro, mixins.DestroyModelMixin):
    """Patients: list (search by name or exact CPF), create, read, update.

    Deleting is allowed only for a patient without appointments (409 otherwise).
    Dentists see only their own patients, read-only.
    """

    serializer_class = PacienteSerializer
    search_fields = ["nome", "=cpf"]
    ordering_fields = ["nome", "created_at"]
    papeis = PAPEIS_PACIENTES

    def get_queryset(self):
        qs = Paciente.objects.order_by("nome", "id")
        if papel(self.request.user) == "dentista":
            qs = qs.filter(agendamentos__dentista__usuario=self.request.user).distinct()
        return qs


class DentistaViewSet(SomenteCadastro):
    """Dentists: everyone reads; the manager creates and updates. Plus a day's agenda."""

    queryset = Dentista.objects.order_by("nome", "id")
    serializer_class = DentistaSerializer
    search_fields = ["nome", "cro"]
    filterset_fields = ["ativo"]
    papeis = PAPEIS_DENTISTAS

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "data", OpenApiTypes.DATE, description="Dia (fuso da clínica); padrão: hoje"
            )
        ],
        responses={200: AgendamentoSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def agenda(self, request, pk=None):
        """The dentist's appointments on one day of the clinic's calendar, by start time."""
        dentista = self.get_object()
        if papel(request.user) == "dentista" and dentista.usuario_id != request.user.pk:
            return Response({"detail": _("Não encontrado.")}, status=status.HTTP_404_NOT_FOUND)
        dia = dia_do_parametro(request, "data", padrao=timezone.localdate())
        agenda = (
            agendamentos_visiveis_com_nomes(request.user)
            .filter(
                dentista=dentista,
                data_hora__gte=inicio_do_dia(dia),
                data_hora__lt=inicio_do_dia(dia + timedelta(days=1)),
            )
            .order_by("data_hora", "id")
        )
        return Response(AgendamentoSerializer(agenda, many=True).data)


class AgendamentoViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The schedule. Writes and transitions go through ``apps.clinic.services``.

    ``data_hora`` without a UTC offset is read in the clinic's time zone
    (``TIME_ZONE``, default America/Sao_Paulo).
    """

    serializer_class = AgendamentoSerializer
    filterset_class = AgendamentoFilter
    ordering_fields = ["data_hora"]
    permission_classes = [TemPapel]
    papeis = PAPEIS_AGENDAMENTOS

    def get_queryset(self):
        return agendamentos_visiveis_com_nomes(self.request.user).order_by("data_hora", "id")

    @staticmethod
    def _resposta(agendamento: Agendamento) -> dict:
        """The payload of one appointment just written, read again with its names (one query)."""
        atual = agendamentos_com_nomes(Agendamento.objects.filter(pk=agendamento.pk)).get()
        return AgendamentoSerializer(atual).data

    def _retroativo(self) -> bool:
        return self.request.user.has_perm("clinic.agendar_retroativo")

    def _fora_do_expediente(self, dados: dict) -> bool:
        """Pop ``fora_do_expediente`` from ``dados``; 400 if asked for without the permission."""
        pedido = dados.pop("fora_do_expediente", False)
        if pedido and not self.request.user.has_perm("clinic.agendar_fora_do_expediente"):
            raise ValidationError(
                {
                    "fora_do_expediente": [
                        _("Você não tem permissão para agendar fora do expediente do dentista.")
                    ]
                }
            )
        return pedido

    @extend_schema(request=AgendamentoCriarSerializer, responses={201: AgendamentoSerializer})
    def create(self, request, *args, **kwargs):
        entrada = AgendamentoCriarSerializer(data=request.data)
        entrada.is_valid(raise_exception=True)
        dados = dict(entrada.validated_data)
        agendamento = services.agendamento_criar(
            permitir_fora_do_expediente=self._fora_do_expediente(dados),
            **dados,
            usuario=request.user,
            now=timezone.now(),
            permitir_retroativo=self._retroativo(),
        )
        return Response(self._resposta(agendamento), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=AgendamentoReagendarSerializer,
        responses={200: AgendamentoSerializer},
    )
    def update(self, request, *args, **kwargs):
        """Reschedule (data_hora, duracao_minutos) or edit the notes of an open appointment."""
        agendamento = self.get_object()
        entrada = AgendamentoReagendarSerializer(data=request.data)
        entrada.is_valid(raise_exception=True)
        dados = dict(entrada.validated_data)
        agendamento = services.agendamento_reagendar(
            agendamento,
            usuario=request.user,
            now=timezone.now(),
            permitir_retroativo=self._retroativo(),
            permitir_fora_do_expediente=self._fora_do_expediente(dados),
            **dados,
        )
        return Response(self._resposta(agendamento))

    @extend_schema(
        request=AgendamentoReagendarSerializer,
        responses={200: AgendamentoSerializer},
    )
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, **kwargs)

    def _transicao(self, request, servico, entrada_cls=VazioSerializer, **extra):
        agendamento = self.get_object()
        entrada = entrada_cls(data=request.data or {})
        entrada.is_valid(raise_exception=True)
        servico(
            agendamento,
            usuario=request.user,
            now=timezone.now(),
            **entrada.validated_data,
            **extra,
        )
        return Response(self._resposta(agendamento))

    @extend_schema(request=None, responses={200: AgendamentoSerializer})
    @action(detail=True, methods=["post"])
    def confirmar(self, request, pk=None):
        """agendado → confirmado."""
        return self._transicao(request, services.agendamento_confirmar)

    @extend_schema(request=CancelarSerializer, responses={200: AgendamentoSerializer})
    @action(detail=True, methods=["post"])
    def cancelar(self, request, pk=None):
        """Cancel with a reason; less than 24 h before the start it is recorded as late."""
        return self._transicao(request, services.agendamento_cancelar, CancelarSerializer)

    @extend_schema(request=None, responses={200: AgendamentoSerializer})
    @action(detail=True, methods=["post"], url_path="marcar-falta")
    def marcar_falta(self, request, pk=None):
        """No-show; only once the appointment has started."""
        return self._transicao(request, services.agendamento_marcar_falta)

    @extend_schema(request=FinalizarSerializer, responses={201: AtendimentoSerializer})
    @action(detail=True, methods=["post"])
    def finalizar(self, request, pk=None):
        """Close now with the dentist's own diagnosis and treatment (a manual visit record)."""
        agendamento = self.get_object()
        entrada = FinalizarSerializer(data=request.data)
        entrada.is_valid(raise_exception=True)
        atendimento = services.agendamento_finalizar(
            agendamento, usuario=request.user, now=timezone.now(), **entrada.validated_data
        )
        return Response(AtendimentoSerializer(atendimento).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReabrirSerializer, responses={200: AgendamentoSerializer})
    @action(detail=True, methods=["post"])
    def reabrir(self, request, pk=None):
        """Undo an automatic close: open again, automatic visit record removed."""
        return self._transicao(request, services.agendamento_reabrir, ReabrirSerializer)

    @extend_schema(responses={200: HistoricoStatusSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def historico(self, request, pk=None):
        """The appointment's status history, oldest first (read-only)."""
        agendamento = self.get_object()
        linhas = agendamento.historico.select_related("usuario").order_by("registrado_em", "id")
        return Response(HistoricoStatusSerializer(linhas, many=True).data)


class AtendimentoViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Visit records: the dentist of the appointment (and the manager) only."""

    serializer_class = AtendimentoSerializer
    permission_classes = [TemPapel]
    filterset_class = AtendimentoFilter
    papeis = PAPEIS_ATENDIMENTOS

    def get_queryset(self):
        return atendimentos_visiveis(self.request.user).order_by("-created_at", "-id")

    @extend_schema(
        request=AtendimentoCriarSerializer,
        responses={201: AtendimentoSerializer},
    )
    def create(self, request, *args, **kwargs):
        """Close an open appointment of yours with its record (same as agendamentos/finalizar)."""
        abertos = agendamentos_visiveis(request.user).filter(active=True)
        entrada = AtendimentoCriarSerializer(data=request.data, agendamentos=abertos)
        entrada.is_valid(raise_exception=True)
        dados = dict(entrada.validated_data)
        atendimento = services.agendamento_finalizar(
            dados.pop("agendamento"), usuario=request.user, now=timezone.now(), **dados
        )
        return Response(AtendimentoSerializer(atendimento).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AtendimentoAtualizarSerializer, responses={200: AtendimentoSerializer})
    def update(self, request, *args, **kwargs):
        """Edit the record; an automatic one becomes reviewed by you."""
        atendimento = self.get_object()
        entrada = AtendimentoAtualizarSerializer(data=request.data)
        entrada.is_valid(raise_exception=True)
        atendimento = services.atendimento_atualizar(
            atendimento, usuario=request.user, now=timezone.now(), **entrada.validated_data
        )
        return Response(AtendimentoSerializer(atendimento).data)

    @extend_schema(request=AtendimentoAtualizarSerializer, responses={200: AtendimentoSerializer})
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, **kwargs)


class RelatorioAgendamentosView(APIView):
    """Manager's report: appointments by status in a period of the clinic's calendar."""

    permission_classes = [TemPapel]
    papeis = {"get": {"gestor"}}

    @extend_schema(
        parameters=[
            OpenApiParameter("inicio", OpenApiTypes.DATE, description="Primeiro dia (inclusive)"),
            OpenApiParameter("fim", OpenApiTypes.DATE, description="Último dia (inclusive)"),
        ],
        responses={200: RelatorioSerializer},
    )
    def get(self, request):
        hoje = timezone.localdate()
        inicio = dia_do_parametro(request, "inicio", padrao=hoje.replace(day=1))
        fim = dia_do_parametro(request, "fim", padrao=hoje)
        if fim < inicio:
            raise ValidationError({"fim": [_("O fim não pode ser antes do início.")]})
        periodo = Agendamento.objects.filter(
            data_hora__gte=inicio_do_dia(inicio),
            data_hora__lt=inicio_do_dia(fim + timedelta(days=1)),
        )
        por_status = periodo.values("status").annotate(total=Count("id")).order_by("status")
        contagens = periodo.aggregate(
            tardios=Count("id", filter=Q(cancelamento_tardio=True)),
        )
        nao_revisados = Atendimento.objects.filter(
            agendamento__in=periodo, origem="automatico", revisado_em__isnull=True
        ).count()
        return Response(
            {
                "inicio": inicio,
                "fim": fim,
                "por_status": list(por_status),
                "cancelamentos_tardios": contagens["tardios"],
                "atendimentos_automaticos_nao_revisados": nao_revisados,
            }
        )


__all__ = [
    "AgendamentoViewSet",
    "AtendimentoViewSet",
    "DentistaViewSet",
    "PacienteViewSet",
    "RelatorioAgendamentosView",
]
