"""Serializers of the REST API. Validation messages are pt-BR (gettext)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.clinic.models import (
    DURACAO_MAXIMA_MINUTOS,
    DURACAO_MINIMA_MINUTOS,
    Agendamento,
    Atendimento,
    Dentista,
    HistoricoStatus,
    Paciente,
)


class EstritoMixin:
    """Rejects unknown fields (400 naming them) instead of silently ignoring them."""

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            desconhecidos = sorted(set(data.keys()) - set(self.fields))
            if desconhecidos:
                raise serializers.ValidationError(
                    {campo: [_("Campo desconhecido.")] for campo in desconhecidos}
                )
        return super().to_internal_value(data)


class EstritoSerializer(EstritoMixin, serializers.ModelSerializer):
    pass


class PacienteSerializer(EstritoSerializer):
    class Meta:
        model = Paciente
        fields = [
            "id",
            "nome",
            "cpf",
            "data_nascimento",
            "telefone",
            "email",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class DentistaSerializer(EstritoSerializer):
    class Meta:
        model = Dentista
        fields = ["id", "nome", "cro", "ativo", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class AgendamentoSerializer(EstritoSerializer):
    """An appointment as the schedule shows it (no clinical record)."""

    class Meta:
        model = Agendamento
        fields = [
            "id",
            "paciente",
            "dentista",
            "data_hora",
            "duracao_minutos",
            "fim",
            "observacoes",
            "status",
            "active",
            "cancelamento_tardio",
            "horario_estimado",
            "fechamento_automatico",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "fim",
            "status",
            "active",
            "cancelamento_tardio",
            "horario_estimado",
            "fechamento_automatico",
            "created_at",
            "updated_at",
        ]


class AgendamentoCriarSerializer(EstritoSerializer):
    """Booking: ``data_hora`` with an offset, or read in the clinic's time zone."""

    class Meta:
        model = Agendamento
        fields = ["paciente", "dentista", "data_hora", "duracao_minutos", "observacoes"]


class AgendamentoReagendarSerializer(EstritoMixin, serializers.Serializer):
    data_hora = serializers.DateTimeField(required=False)
    duracao_minutos = serializers.IntegerField(
        required=False, min_value=DURACAO_MINIMA_MINUTOS, max_value=DURACAO_MAXIMA_MINUTOS
    )
    observacoes = serializers.CharField(required=False, allow_blank=True)


class CancelarSerializer(EstritoMixin, serializers.Serializer):
    motivo = serializers.CharField(max_length=500)


class FinalizarSerializer(EstritoMixin, serializers.Serializer):
    diagnostico = serializers.CharField()
    tratamento_realizado = serializers.CharField()


class ReabrirSerializer(EstritoMixin, serializers.Serializer):
    motivo = serializers.CharField(max_length=500, required=False, allow_blank=True)


class VazioSerializer(EstritoMixin, serializers.Serializer):
    """No body (or an empty object)."""


class AtendimentoSerializer(EstritoSerializer):
    class Meta:
        model = Atendimento
        fields = [
            "id",
            "agendamento",
            "diagnostico",
            "tratamento_realizado",
            "origem",
            "revisado_em",
            "revisado_por",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "agendamento",
            "origem",
            "revisado_em",
            "revisado_por",
            "created_at",
            "updated_at",
        ]


class AtendimentoCriarSerializer(EstritoMixin, serializers.Serializer):
    """Closing an appointment with the dentist's record (see agendamento_finalizar)."""

    agendamento = serializers.PrimaryKeyRelatedField(queryset=Agendamento.objects.none())
    diagnostico = serializers.CharField()
    tratamento_realizado = serializers.CharField()

    def __init__(self, *args, agendamentos=None, **kwargs):
        super().__init__(*args, **kwargs)
        if agendamentos is not None:
            self.fields["agendamento"].queryset = agendamentos


class AtendimentoAtualizarSerializer(EstritoMixin, serializers.Serializer):
    diagnostico = serializers.CharField(required=False)
    tratamento_realizado = serializers.CharField(required=False)


class HistoricoStatusSerializer(serializers.ModelSerializer):
    ator = serializers.CharField(read_only=True)

    class Meta:
        model = HistoricoStatus
        fields = [
            "id",
            "status_anterior",
            "status_novo",
            "registrado_em",
            "usuario",
            "task_id",
            "ator",
            "motivo",
        ]
        read_only_fields = fields


class ErroSerializer(serializers.Serializer):
    """Body of 401/403/404/409 answers."""

    detail = serializers.CharField()
    code = serializers.CharField(required=False)


class ResumoStatusSerializer(serializers.Serializer):
    status = serializers.CharField()
    total = serializers.IntegerField()


class RelatorioSerializer(serializers.Serializer):
    inicio = serializers.DateField()
    fim = serializers.DateField()
    por_status = ResumoStatusSerializer(many=True)
    cancelamentos_tardios = serializers.IntegerField()
    atendimentos_automaticos_nao_revisados = serializers.IntegerField()
