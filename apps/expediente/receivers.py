"""What this app does when the clinic's demo data is created (``clinic.signals.demo_criada``)."""

from __future__ import annotations

from .services import SEMANA_COMERCIAL, jornada_semanal_definir


def dar_jornada_aos_dentistas_da_demo(sender, dentistas, **kwargs) -> None:
    """Each demo dentist works Monday to Friday, 08:00–12:00 and 13:00–18:00."""
    for dentista in dentistas:
        jornada_semanal_definir(dentista=dentista, periodos_por_dia=SEMANA_COMERCIAL)
