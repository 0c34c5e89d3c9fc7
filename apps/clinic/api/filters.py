"""Filters of the appointment list (django-filter)."""

from datetime import datetime, time, timedelta

import django_filters
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.clinic.models import Agendamento


def inicio_do_dia(dia) -> datetime:
    """Local midnight (settings.TIME_ZONE) starting calendar day ``dia``, as an aware datetime."""
    return timezone.make_aware(datetime.combine(dia, time.min))


class AgendamentoFilter(django_filters.FilterSet):
    """Date range in the clinic's time zone (whole days, inclusive), dentist, patient, status."""

    data_inicio = django_filters.DateFilter(
        method="filtrar_data_inicio", label=_("A partir do dia (fuso da clínica)")
    )
    data_fim = django_filters.DateFilter(
        method="filtrar_data_fim", label=_("Até o dia, inclusive (fuso da clínica)")
    )
    status = django_filters.MultipleChoiceFilter(choices=Agendamento.Status.choices)

    class Meta:
        model = Agendamento
        fields = ["dentista", "paciente", "status", "active"]

    def filtrar_data_inicio(self, queryset, name, value):
        return queryset.filter(data_hora__gte=inicio_do_dia(value))

    def filtrar_data_fim(self, queryset, name, value):
        return queryset.filter(data_hora__lt=inicio_do_dia(value + timedelta(days=1)))
