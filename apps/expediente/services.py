"""Writes of working hours (the admin saves its rows itself: plain data checked by clean())."""

from __future__ import annotations

from datetime import time

from django.db import transaction

from apps.clinic.models import Dentista

from .models import Jornada

# Monday to Friday, 08:00–12:00 and 13:00–18:00 (lunch is the gap): the demo's plan.
SEMANA_COMERCIAL: dict[int, list[tuple[time, time]]] = {
    dia: [(time(8), time(12)), (time(13), time(18))] for dia in range(5)
}


@transaction.atomic
def jornada_semanal_definir(
    *, dentista: Dentista, periodos_por_dia: dict[int, list[tuple[time, time]]]
) -> list[Jornada]:
    """Replace ``dentista``'s weekly plan with ``periodos_por_dia``; return the new rows.

    ``periodos_por_dia`` maps a weekday (``date.weekday()``: Monday = 0) to
    its ``(inicio, fim)`` wall-clock intervals; a weekday left out is a day
    off. Each row is ``full_clean()``-ed, so an overlap or an interval that
    ends before it starts raises ``ValidationError`` (pt-BR) and nothing is
    changed (one transaction).
    """
    Jornada.objects.filter(dentista=dentista).delete()
    criadas = []
    for dia_semana, periodos in sorted(periodos_por_dia.items()):
        for inicio, fim in periodos:
            jornada = Jornada(dentista=dentista, dia_semana=dia_semana, inicio=inicio, fim=fim)
            jornada.full_clean()
            jornada.save()
            criadas.append(jornada)
    return criadas
