"""The front desk's list: ``GET /api/confirmacoes/?dia=AAAA-MM-DD&confirmacao=pendente``.

A day's open appointments (the clinic's zone) with their reminders and the
patient's answers, so the receptionist knows whom to call. The clinic's
``/api/agendamentos/`` filterset is left as it is; this is the equivalent
endpoint of issue 11, item 5. Visibility is the schedule's
(``agendamentos_visiveis``: a dentist sees their own); roles are the
schedule list's (``PAPEIS_AGENDAMENTOS["list"]``).
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView

from apps.clinic.api.filters import dia_do_parametro, inicio_do_dia
from apps.clinic.models import Agendamento
from apps.clinic.permissions import PAPEIS_AGENDAMENTOS, TemPapel
from apps.clinic.selectors import agendamentos_visiveis

from .models import Lembrete

# ?confirmacao=: which open appointments (agendado = not yet confirmed).
FILTROS_CONFIRMACAO = {
    "pendente": (Agendamento.Status.AGENDADO,),
    "confirmado": (Agendamento.Status.CONFIRMADO,),
    "todas": Agendamento.STATUS_ABERTOS,
}


def confirmacoes_do_dia(usuario, *, dia: date, confirmacao: str = "pendente") -> QuerySet:
    """Open appointments of calendar day ``dia`` (clinic's zone) that ``usuario`` may see.

    ``confirmacao``: a key of ``FILTROS_CONFIRMACAO``. Ordered by start;
    patient and dentist joined, reminders (with their rule) prefetched: a
    constant number of queries whatever the day holds. Used by the API and
    the admin's "Confirmações" page.
    """
    return (
        agendamentos_visiveis(usuario)
        .filter(
            status__in=FILTROS_CONFIRMACAO[confirmacao],
            data_hora__gte=inicio_do_dia(dia),
            data_hora__lt=inicio_do_dia(dia + timedelta(days=1)),
        )
        .select_related("paciente", "dentista")
        .prefetch_related(
            Prefetch(
                "lembretes",
                queryset=Lembrete.objects.select_related("regra").order_by("previsto_para", "id"),
            )
        )
        .order_by("data_hora", "id")
    )


class LembreteResumoSerializer(serializers.ModelSerializer):
    regra = serializers.CharField(source="regra.nome")
    atual = serializers.SerializerMethodField(
        help_text=_("Falso quando o lembrete foi do horário anterior a uma remarcação.")
    )

    class Meta:
        model = Lembrete
        fields = [
            "id",
            "regra",
            "canal",
            "situacao",
            "motivo",
            "inicio",
            "atual",
            "enviado_em",
            "resposta",
            "respondido_em",
        ]

    def get_atual(self, obj) -> bool:
        return obj.inicio == obj.agendamento.data_hora


class PessoaSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    nome = serializers.CharField()


class PacienteContatoSerializer(PessoaSerializer):
    telefone = serializers.CharField()


class ConfirmacaoSerializer(serializers.ModelSerializer):
    paciente = PacienteContatoSerializer()
    dentista = PessoaSerializer()
    lembretes = LembreteResumoSerializer(many=True)

    class Meta:
        model = Agendamento
        fields = ["id", "data_hora", "status", "paciente", "dentista", "lembretes"]


def _confirmacao_do_parametro(request) -> str:
    valor = request.query_params.get("confirmacao") or "pendente"
    if valor not in FILTROS_CONFIRMACAO:
        raise ValidationError({"confirmacao": [_("Use pendente, confirmado ou todas.")]})
    return valor


class ConfirmacoesView(ListAPIView):
    """The day's open appointments with their reminders (the front desk calls the unconfirmed)."""

    serializer_class = ConfirmacaoSerializer
    permission_classes = [TemPapel]
    papeis = {"get": PAPEIS_AGENDAMENTOS["list"]}
    filter_backends: list = []

    def get_queryset(self):
        amanha = timezone.localdate() + timedelta(days=1)
        dia = dia_do_parametro(self.request, "dia", padrao=amanha)
        confirmacao = _confirmacao_do_parametro(self.request)
        # Each reminder's "atual" reads its appointment: the prefetch already set it.
        return confirmacoes_do_dia(self.request.user, dia=dia, confirmacao=confirmacao)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "dia",
                OpenApiTypes.DATE,
                description="Dia (AAAA-MM-DD, fuso da clínica); padrão: amanhã",
            ),
            OpenApiParameter(
                "confirmacao",
                OpenApiTypes.STR,
                enum=list(FILTROS_CONFIRMACAO),
                description="pendente (padrão: ainda não confirmados), confirmado ou todas",
            ),
        ],
        responses={200: ConfirmacaoSerializer(many=True)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
