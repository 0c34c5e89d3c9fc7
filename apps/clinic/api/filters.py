"""Filters of the lists: the appointment list's (django-filter) and ``?search=``'s limit."""

from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.filters import SearchFilter

from apps.clinic.models import ANO_MAXIMO, ANO_MINIMO, Agendamento, Atendimento

# Longer than any name (models.LIMITE_NOME) or masked CPF; a 100,000-character
# term made SQLite fail ("LIKE or GLOB pattern too complex") with a 500.
LIMITE_BUSCA = 200


class BuscaLimitada(SearchFilter):
    """DRF's ``?search=`` of at most ``LIMITE_BUSCA`` characters; longer: a 400 on ``search``."""

    def get_search_terms(self, request):
        if len(request.query_params.get(self.search_param, "")) > LIMITE_BUSCA:
            raise ValidationError(
                {
                    self.search_param: [
                        _("Use no máximo %(n)d caracteres na busca.") % {"n": LIMITE_BUSCA}
                    ]
                }
            )
        return super().get_search_terms(request)


def inicio_do_dia(dia) -> datetime:
    """Local midnight (settings.TIME_ZONE) starting calendar day ``dia``, as an aware datetime."""
    return timezone.make_aware(datetime.combine(dia, time.min))


def validar_dia(dia: date, campo: str) -> date:
    """``dia`` if its year is 1900–2100; else a 400 naming ``campo`` (no overflow at 9999)."""
    if not ANO_MINIMO <= dia.year <= ANO_MAXIMO:
        raise ValidationError({campo: [_("Use uma data entre os anos de 1900 e 2100.")]})
    return dia


def dia_do_parametro(request, campo: str, *, padrao: date) -> date:
    """The ``AAAA-MM-DD`` query parameter ``campo``, or ``padrao`` when absent; 400 if bad."""
    texto = request.query_params.get(campo)
    if not texto:
        return padrao
    try:
        dia = date.fromisoformat(texto)
    except ValueError:
        raise ValidationError({campo: [_("Use o formato AAAA-MM-DD.")]}) from None
    return validar_dia(dia, campo)


class IdFilter(django_filters.NumberFilter):
    """A row id as a whole number 1..2**63-1 (a bigint); anything else is a 400 by field."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class AgendamentoFilter(django_filters.FilterSet):
    """Date range in the clinic's time zone (whole days, inclusive), dentist, patient, status."""

    data_inicio = django_filters.DateFilter(
        method="filtrar_data_inicio", label=_("A partir do dia (fuso da clínica)")
    )
    data_fim = django_filters.DateFilter(
        method="filtrar_data_fim", label=_("Até o dia, inclusive (fuso da clínica)")
    )
    status = django_filters.MultipleChoiceFilter(choices=Agendamento.Status.choices)
    # Ids as plain numbers, not choices: a choice filter checks the id against
    # every row of the table, so its 400 ("escolha válida") told a dentist which
    # ids exist among other dentists' rows. Filtering the visible queryset by a
    # number answers the same empty list for both.
    dentista = IdFilter(field_name="dentista_id", label=_("Dentista (id)"))
    paciente = IdFilter(field_name="paciente_id", label=_("Paciente (id)"))

    class Meta:
        model = Agendamento
        fields = ["dentista", "paciente", "status", "active"]

    def filtrar_data_inicio(self, queryset, name, value):
        return queryset.filter(data_hora__gte=inicio_do_dia(validar_dia(value, name)))

    def filtrar_data_fim(self, queryset, name, value):
        dia = validar_dia(value, name)
        return queryset.filter(data_hora__lt=inicio_do_dia(dia + timedelta(days=1)))


class AtendimentoFilter(django_filters.FilterSet):
    """Visit records by origin and by appointment id (a number, as AgendamentoFilter's ids)."""

    agendamento = IdFilter(field_name="agendamento_id", label=_("Agendamento (id)"))

    class Meta:
        model = Atendimento
        fields = ["origem", "agendamento"]
