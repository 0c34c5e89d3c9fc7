"""Serializers of the REST API. Validation messages are pt-BR (gettext)."""

from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from apps.clinic.models import (
    DURACAO_MAXIMA_MINUTOS,
    DURACAO_MINIMA_MINUTOS,
    Agendamento,
    Atendimento,
    CPFValidator,
    Dentista,
    HistoricoStatus,
    Paciente,
)


class EstritoMixin:
    """Refuses, with a 400 naming the field, what DRF would silently ignore or coerce.

    - unknown fields, and read-only ones sent anyway;
    - in JSON bodies, a wrong JSON type: a number where text is expected, a
      string or a boolean where a whole number is expected. (Form-encoded
      bodies are all text, so they are left to the fields' own parsing.)
    """

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            erros = {}
            for campo in data.keys():
                definicao = self.fields.get(campo)
                if definicao is None:
                    erros[campo] = [_("Campo desconhecido.")]
                elif definicao.read_only:
                    erros[campo] = [_("Campo somente leitura: não pode ser enviado.")]
                elif not isinstance(data, QueryDict):
                    erro = _erro_de_tipo(definicao, data[campo])
                    if erro:
                        erros[campo] = [erro]
            if erros:
                raise serializers.ValidationError(erros)
        return super().to_internal_value(data)


def _erro_de_tipo(campo: serializers.Field, valor) -> str | None:
    if valor is None:
        return None
    if isinstance(campo, serializers.CharField) and not isinstance(valor, str):
        return _("Tipo inválido: envie um texto.")
    if isinstance(campo, serializers.IntegerField) and (
        isinstance(valor, bool) or not isinstance(valor, int)
    ):
        return _("Tipo inválido: envie um número inteiro.")
    if isinstance(campo, serializers.BooleanField) and not isinstance(valor, bool):
        return _("Tipo inválido: envie true ou false.")
    return None


class EstritoSerializer(EstritoMixin, serializers.ModelSerializer):
    pass


class PacienteSerializer(EstritoSerializer):
    # Declared without the model's regex validator, whose pattern would end up
    # in the OpenAPI schema; the check digits are validated in validate_cpf.
    cpf = serializers.CharField(
        max_length=11,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text=_("Somente os 11 dígitos, com os dígitos verificadores."),
        validators=[
            UniqueValidator(
                queryset=Paciente.objects.all(), message=_("Já existe um paciente com este CPF.")
            )
        ],
    )

    def validate_data_nascimento(self, valor):
        if valor and valor > timezone.localdate():
            raise serializers.ValidationError(_("A data de nascimento não pode estar no futuro."))
        return valor

    def validate_cpf(self, valor):
        if not valor:
            return None  # blank means "not informed", stored as NULL (unique allows many)
        CPFValidator()(valor)
        return valor

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
        fields = ["id", "nome", "cro", "usuario", "ativo", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class AgendamentoSerializer(EstritoSerializer):
    """An appointment as the schedule shows it (no clinical record)."""

    fim = serializers.DateTimeField(read_only=True)

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
