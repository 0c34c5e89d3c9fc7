"""Serializers of the REST API. Validation messages are pt-BR (gettext)."""

import re

from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from apps.clinic.models import (
    ANO_MAXIMO,
    ANO_MINIMO,
    DURACAO_MAXIMA_MINUTOS,
    DURACAO_MINIMA_MINUTOS,
    LIMITE_MOTIVO,
    LIMITE_OBSERVACOES,
    LIMITE_TEXTO_CLINICO,
    Agendamento,
    Atendimento,
    CPFValidator,
    Dentista,
    HistoricoStatus,
    Paciente,
    normalizar_cpf,
)

# An ISO 8601 date and time with at least hours and minutes ("2026-12-02T10:00",
# "2026-12-02 10:00", "20261202T1000"); what may follow (seconds, offset) is
# left to DRF's parser.
_RE_COM_HORA = re.compile(r"\s*\d{4}-?\d{2}-?\d{2}[T ]\d{2}:?\d{2}")


class DataHoraField(serializers.DateTimeField):
    """``DateTimeField`` that answers a 400, not an ``OverflowError``, at the calendar's edges.

    A naive ``9999-12-31T23:59:59`` read in the clinic's zone (UTC-3) lies past
    ``datetime.max`` in UTC, and an aware ``0001-01-01T00:00:00+05:00`` before
    ``datetime.min``: years outside ANO_MINIMO–ANO_MAXIMO are refused first.

    A text without a time of day (``"2026-12-02"``, ``"2026-12-02T"``,
    ``"2026-12-02T10"``) is refused too: Python's ISO parser reads a bare date
    as midnight, and nobody books 00:00 on purpose.
    """

    default_error_messages = {
        "fora_do_calendario": _("Informe uma data entre os anos de 1900 e 2100."),
        "sem_hora": _(
            "Informe a data e a hora de início, com horas e minutos "
            "(ex.: 2026-12-02T10:00 ou 2026-12-02T10:00:00-03:00)."
        ),
    }

    def to_internal_value(self, value):
        if isinstance(value, str) and not _RE_COM_HORA.match(value):
            self.fail("sem_hora")
        return super().to_internal_value(value)

    def enforce_timezone(self, value):
        # DRF calls this on the way in and on the way out. A year more than one
        # away from the range would overflow when changing zones: refused first.
        # Then the range is the clinic's calendar (Agendamento.clean's rule), so a
        # stored 23:59 on 31/12/2100 in São Paulo (2101 in UTC) is still shown.
        if not ANO_MINIMO - 1 <= value.year <= ANO_MAXIMO + 1:
            self.fail("fora_do_calendario")
        valor = super().enforce_timezone(value)
        local = timezone.localtime(valor) if timezone.is_aware(valor) else valor
        if not ANO_MINIMO <= local.year <= ANO_MAXIMO:
            self.fail("fora_do_calendario")
        return valor


class CPFSerializerField(serializers.CharField):
    """A CPF with or without its mask, answered and stored as its 11 digits."""

    def to_internal_value(self, data):
        return normalizar_cpf(super().to_internal_value(data))


class EstritoMixin:
    """Refuses, with a 400 naming the field, what DRF would silently ignore or coerce.

    - unknown fields, and read-only ones sent anyway (a field of the resource
      that this input does not take: ``campos_de_leitura``, by default the
      model's columns);
    - in JSON bodies, a wrong JSON type: a number where text is expected, a
      string or a boolean where a whole number is expected. (Form-encoded
      bodies are all text, so they are left to the fields' own parsing.)
    """

    campos_de_leitura: frozenset[str] | None = None

    def _campos_de_leitura(self) -> frozenset[str]:
        if self.campos_de_leitura is not None:
            return self.campos_de_leitura
        modelo = getattr(getattr(self, "Meta", None), "model", None)
        if modelo is None:
            return frozenset()
        return frozenset(campo.name for campo in modelo._meta.concrete_fields)

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            erros = {}
            for campo in data.keys():
                definicao = self.fields.get(campo)
                if definicao is None and campo not in self._campos_de_leitura():
                    erros[campo] = [_("Campo desconhecido.")]
                elif definicao is None or definicao.read_only:
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
    if isinstance(campo, serializers.PrimaryKeyRelatedField) and (
        isinstance(valor, bool) or not isinstance(valor, int)
    ):
        # DRF would look up 1.5 as 1 and "1" as 1.
        return _("Tipo inválido: envie o id, um número inteiro.")
    return None


class EstritoSerializer(EstritoMixin, serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: DataHoraField,
    }


class PacienteSerializer(EstritoSerializer):
    # Declared without the model's validator (a RegexValidator), whose pattern
    # would end up in the OpenAPI schema; the CPF is checked in validate_cpf.
    cpf = CPFSerializerField(
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text=_("11 dígitos, com ou sem a máscara 000.000.000-00; respondido sem a máscara."),
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


class NomeRelacionadoField(serializers.CharField):
    """Read-only ``nome`` of the appointment's ``relacao`` (paciente or dentista), or null.

    Reads the selector's annotation ``<relacao>_nome``
    (``selectors.agendamentos_com_nomes``), so a list costs no query per row.
    An instance that did not come through the selector still gets the right
    name, at the price of one query (the related row), never a silent null.
    """

    def __init__(self, relacao: str, **kwargs):
        self.relacao = relacao
        super().__init__(source="*", read_only=True, allow_null=True, **kwargs)

    def to_representation(self, agendamento):
        anotado = f"{self.relacao}_nome"
        if anotado in agendamento.__dict__:
            return agendamento.__dict__[anotado]
        try:
            return getattr(agendamento, self.relacao).nome
        except ObjectDoesNotExist:
            return None


class AgendamentoSerializer(EstritoSerializer):
    """An appointment as the schedule shows it (no clinical record).

    ``paciente_nome`` and ``dentista_nome`` are annotations of the selector
    (``selectors.agendamentos_com_nomes``): serialize rows that come from it.
    """

    fim = serializers.DateTimeField(read_only=True)
    paciente_nome = NomeRelacionadoField("paciente", help_text=_("Nome do paciente."))
    dentista_nome = NomeRelacionadoField("dentista", help_text=_("Nome do dentista."))

    class Meta:
        model = Agendamento
        fields = [
            "id",
            "paciente",
            "paciente_nome",
            "dentista",
            "dentista_nome",
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

    # What the resource shows but booking does not take (the names too) is "read-only".
    campos_de_leitura = frozenset(AgendamentoSerializer.Meta.fields)

    fora_do_expediente = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_(
            "Agendar mesmo fora do expediente do dentista (folga, feriado, fora do horário); "
            "exige a permissão de agendar fora do expediente e fica registrado no histórico."
        ),
    )

    class Meta:
        model = Agendamento
        fields = [
            "paciente",
            "dentista",
            "data_hora",
            "duracao_minutos",
            "observacoes",
            "fora_do_expediente",
        ]


class AgendamentoReagendarSerializer(EstritoMixin, serializers.Serializer):
    campos_de_leitura = frozenset(AgendamentoSerializer.Meta.fields)

    data_hora = DataHoraField(required=False)
    duracao_minutos = serializers.IntegerField(
        required=False, min_value=DURACAO_MINIMA_MINUTOS, max_value=DURACAO_MAXIMA_MINUTOS
    )
    observacoes = serializers.CharField(
        required=False, allow_blank=True, max_length=LIMITE_OBSERVACOES
    )
    fora_do_expediente = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_(
            "Agendar mesmo fora do expediente do dentista (folga, feriado, fora do horário); "
            "exige a permissão de agendar fora do expediente e fica registrado no histórico."
        ),
    )


class CancelarSerializer(EstritoMixin, serializers.Serializer):
    motivo = serializers.CharField(max_length=LIMITE_MOTIVO)


class FinalizarSerializer(EstritoMixin, serializers.Serializer):
    diagnostico = serializers.CharField(max_length=LIMITE_TEXTO_CLINICO)
    tratamento_realizado = serializers.CharField(max_length=LIMITE_TEXTO_CLINICO)


class ReabrirSerializer(EstritoMixin, serializers.Serializer):
    motivo = serializers.CharField(max_length=LIMITE_MOTIVO, required=False, allow_blank=True)


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

    campos_de_leitura = frozenset(AtendimentoSerializer.Meta.fields)

    agendamento = serializers.PrimaryKeyRelatedField(queryset=Agendamento.objects.none())
    diagnostico = serializers.CharField(max_length=LIMITE_TEXTO_CLINICO)
    tratamento_realizado = serializers.CharField(max_length=LIMITE_TEXTO_CLINICO)

    def __init__(self, *args, agendamentos=None, **kwargs):
        super().__init__(*args, **kwargs)
        if agendamentos is not None:
            self.fields["agendamento"].queryset = agendamentos


class AtendimentoAtualizarSerializer(EstritoMixin, serializers.Serializer):
    campos_de_leitura = frozenset(AtendimentoSerializer.Meta.fields)

    diagnostico = serializers.CharField(required=False, max_length=LIMITE_TEXTO_CLINICO)
    tratamento_realizado = serializers.CharField(required=False, max_length=LIMITE_TEXTO_CLINICO)


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
