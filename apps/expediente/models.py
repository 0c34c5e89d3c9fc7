"""Working hours: when each dentist sees patients, and when the clinic is closed.

- ``Jornada``: a dentist's weekly plan, one row per working interval of a
  weekday (several per day, so lunch is the gap between two rows).
- ``Ausencia``: a dentist's day off or vacation (a range of whole days, or
  part of one day).
- ``DiaExtra``: an extra working interval on one date (a Saturday the
  dentist covers, a holiday the clinic opens).
- ``Fechamento``: a clinic-wide closure (a range of whole days), on top of
  the national (and the clinic's state) holidays, which come from the
  ``holidays`` library (``selectors.feriados``).

A dentist with no ``Jornada`` row has no plan yet, and none of these rules
applies to them (a clinic that has not set its hours up books as before).
Times are wall-clock times in the clinic's zone (``TIME_ZONE``).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from apps.clinic.models import ANO_MAXIMO, ANO_MINIMO, Dentista

LIMITE_MOTIVO = 200


def _validar_anos(instancia: models.Model, *campos: str) -> None:
    """Raise ``ValidationError`` (by field) for a date outside ANO_MINIMO–ANO_MAXIMO.

    The clinic's own limits (apps.clinic.models, as for appointments): a
    year 2 or 20260 is a typo, and the holiday library would be asked for it.
    """
    erros = {}
    for campo in campos:
        valor = getattr(instancia, campo)
        if valor is not None and not ANO_MINIMO <= valor.year <= ANO_MAXIMO:
            erros[campo] = _("Informe um ano entre %(minimo)s e %(maximo)s.") % {
                "minimo": ANO_MINIMO,
                "maximo": ANO_MAXIMO,
            }
    if erros:
        raise ValidationError(erros)


class DiaSemana(models.IntegerChoices):
    """Weekdays as Python's ``date.weekday()`` numbers them (Monday = 0)."""

    SEGUNDA = 0, _("segunda-feira")
    TERCA = 1, _("terça-feira")
    QUARTA = 2, _("quarta-feira")
    QUINTA = 3, _("quinta-feira")
    SEXTA = 4, _("sexta-feira")
    SABADO = 5, _("sábado")
    DOMINGO = 6, _("domingo")


class Jornada(models.Model):
    """One working interval ``[inicio, fim)`` of a dentist on a weekday, every week.

    Two intervals of the same dentist and weekday never overlap (touching is
    fine: 08:00–12:00 and 12:00–13:00): ``clean()`` says so in pt-BR, and on
    PostgreSQL the exclusion constraint ``jornada_sem_sobreposicao``
    (migration 0002) holds it against two concurrent saves.
    """

    dentista = models.ForeignKey(
        Dentista, verbose_name=_("dentista"), on_delete=models.CASCADE, related_name="jornadas"
    )
    dia_semana = models.PositiveSmallIntegerField(_("dia da semana"), choices=DiaSemana.choices)
    inicio = models.TimeField(_("início"))
    fim = models.TimeField(_("fim"))

    class Meta:
        verbose_name = _("jornada semanal")
        verbose_name_plural = _("jornadas semanais")
        ordering = ["dentista", "dia_semana", "inicio"]
        constraints = [
            models.CheckConstraint(
                name="jornada_fim_depois_do_inicio",
                condition=Q(fim__gt=F("inicio")),
                violation_error_message=_("O fim deve ser depois do início."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_dia_semana_display()} {self.inicio:%H:%M}–{self.fim:%H:%M}"

    def clean(self) -> None:
        super().clean()
        if self.inicio and self.fim and self.fim <= self.inicio:
            raise ValidationError({"fim": _("O fim deve ser depois do início.")})
        if self.dentista_id and self.inicio and self.fim and self.dia_semana is not None:
            sobrepostas = Jornada.objects.filter(
                dentista_id=self.dentista_id,
                dia_semana=self.dia_semana,
                inicio__lt=self.fim,
                fim__gt=self.inicio,
            ).exclude(pk=self.pk)
            if sobrepostas.exists():
                raise ValidationError(
                    _("Este intervalo se sobrepõe a outro do mesmo dia da semana.")
                )


class Ausencia(models.Model):
    """A dentist's absence: whole days ``data_inicio``–``data_fim`` (inclusive), or part of one.

    With ``hora_inicio`` and ``hora_fim`` (both or neither) the absence is
    that part of each day of the range (a dentist out every afternoon of a
    week); without them, the whole days.
    """

    class Tipo(models.TextChoices):
        FOLGA = "folga", _("Folga")
        FERIAS = "ferias", _("Férias")
        OUTRO = "outro", _("Outro")

    dentista = models.ForeignKey(
        Dentista, verbose_name=_("dentista"), on_delete=models.CASCADE, related_name="ausencias"
    )
    tipo = models.CharField(_("tipo"), max_length=10, choices=Tipo.choices, default=Tipo.FOLGA)
    data_inicio = models.DateField(_("de"))
    data_fim = models.DateField(_("até"))
    hora_inicio = models.TimeField(_("das"), null=True, blank=True)
    hora_fim = models.TimeField(_("às"), null=True, blank=True)
    motivo = models.CharField(_("motivo"), max_length=LIMITE_MOTIVO, blank=True)

    class Meta:
        verbose_name = _("ausência do dentista")
        verbose_name_plural = _("ausências dos dentistas")
        ordering = ["-data_inicio", "dentista"]
        indexes = [models.Index(fields=["dentista", "data_fim"], name="ausencia_dentista_fim_idx")]
        constraints = [
            models.CheckConstraint(
                name="ausencia_datas_em_ordem",
                condition=Q(data_fim__gte=F("data_inicio")),
                violation_error_message=_("A data final deve ser igual ou posterior à inicial."),
            ),
            models.CheckConstraint(
                name="ausencia_horas_juntas_e_em_ordem",
                # hora_fim IS NOT NULL spelled out: with it NULL, "hora_fim >
                # hora_inicio" is NULL, and a CHECK passes on NULL.
                condition=Q(hora_inicio__isnull=True, hora_fim__isnull=True)
                | Q(
                    hora_inicio__isnull=False,
                    hora_fim__isnull=False,
                    hora_fim__gt=F("hora_inicio"),
                ),
                violation_error_message=_(
                    "Informe as duas horas (a final depois da inicial) ou nenhuma."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_tipo_display()} {self.data_inicio:%d/%m/%Y}–{self.data_fim:%d/%m/%Y}"

    def clean(self) -> None:
        super().clean()
        _validar_anos(self, "data_inicio", "data_fim")
        if self.data_inicio and self.data_fim and self.data_fim < self.data_inicio:
            raise ValidationError(
                {"data_fim": _("A data final deve ser igual ou posterior à inicial.")}
            )
        if (self.hora_inicio is None) != (self.hora_fim is None):
            # On the missing hour's field: full_clean() then skips the check
            # constraint on that field, which would say the same a second time.
            faltando = "hora_fim" if self.hora_fim is None else "hora_inicio"
            raise ValidationError(
                {faltando: _("Informe as duas horas (a final depois da inicial) ou nenhuma.")}
            )
        if self.hora_inicio and self.hora_fim and self.hora_fim <= self.hora_inicio:
            raise ValidationError({"hora_fim": _("A hora final deve ser depois da inicial.")})


class DiaExtra(models.Model):
    """An extra working interval ``[inicio, fim)`` of a dentist on one ``data``.

    Adds to the weekly plan, and also opens a holiday for that dentist; a
    clinic closure (``Fechamento``) and an ``Ausencia`` still win.
    """

    dentista = models.ForeignKey(
        Dentista, verbose_name=_("dentista"), on_delete=models.CASCADE, related_name="dias_extras"
    )
    data = models.DateField(_("data"))
    inicio = models.TimeField(_("início"))
    fim = models.TimeField(_("fim"))
    motivo = models.CharField(_("motivo"), max_length=LIMITE_MOTIVO, blank=True)

    class Meta:
        verbose_name = _("dia extra de trabalho")
        verbose_name_plural = _("dias extras de trabalho")
        ordering = ["-data", "dentista", "inicio"]
        indexes = [models.Index(fields=["dentista", "data"], name="diaextra_dentista_data_idx")]
        constraints = [
            models.CheckConstraint(
                name="diaextra_fim_depois_do_inicio",
                condition=Q(fim__gt=F("inicio")),
                violation_error_message=_("O fim deve ser depois do início."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.data:%d/%m/%Y} {self.inicio:%H:%M}–{self.fim:%H:%M}"

    def clean(self) -> None:
        super().clean()
        _validar_anos(self, "data")
        if self.inicio and self.fim and self.fim <= self.inicio:
            raise ValidationError({"fim": _("O fim deve ser depois do início.")})


class Fechamento(models.Model):
    """The clinic closed for whole days ``data_inicio``–``data_fim`` (inclusive), for everyone."""

    data_inicio = models.DateField(_("de"))
    data_fim = models.DateField(_("até"))
    descricao = models.CharField(_("descrição"), max_length=LIMITE_MOTIVO)

    class Meta:
        verbose_name = _("fechamento da clínica")
        verbose_name_plural = _("fechamentos da clínica")
        ordering = ["-data_inicio"]
        constraints = [
            models.CheckConstraint(
                name="fechamento_datas_em_ordem",
                condition=Q(data_fim__gte=F("data_inicio")),
                violation_error_message=_("A data final deve ser igual ou posterior à inicial."),
            ),
        ]

    def __str__(self) -> str:
        return self.descricao

    def clean(self) -> None:
        super().clean()
        _validar_anos(self, "data_inicio", "data_fim")
        if self.data_inicio and self.data_fim and self.data_fim < self.data_inicio:
            raise ValidationError(
                {"data_fim": _("A data final deve ser igual ou posterior à inicial.")}
            )
