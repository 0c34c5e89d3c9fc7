"""The clinic's data: patients, dentists, appointments, visit records, history.

Invariants that must never be false live here as database constraints; the
rules that move an appointment from one status to another live in
``services.py`` (the only writer of ``status``/``active``).
"""

from __future__ import annotations

import re
from datetime import timedelta

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinValueValidator,
    RegexValidator,
)
from django.db import NotSupportedError, models
from django.db.models import Q
from django.db.models.lookups import IContains, IExact
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from localflavor.br.validators import BRCPFValidator

DURACAO_MINIMA_MINUTOS = 5
DURACAO_MAXIMA_MINUTOS = 480


# Years a date the clinic means can have; beyond them date arithmetic in the
# clinic's time zone overflows (9999-12-31T23:59 local is past datetime.max in UTC).
ANO_MINIMO, ANO_MAXIMO = 1900, 2100

# Length limits of the free texts, in characters. One set, shared by every
# door: the model (max_length / validators, so full_clean and the admin's
# forms), the API's serializers and the No-Show import.
LIMITE_NOME = 200
LIMITE_CRO = 30
LIMITE_TELEFONE = 20
LIMITE_EMAIL = 254  # RFC 5321's path limit, Django's EmailField default
LIMITE_ID_EXTERNO = 64
LIMITE_OBSERVACOES = 2000
LIMITE_TEXTO_CLINICO = 5000  # diagnostico, tratamento_realizado
LIMITE_MOTIVO = 500  # reason given to cancel or reopen
# A history row's reason: the user's (LIMITE_MOTIVO) plus what the services
# append (" [cancelamento tardio]").
LIMITE_MOTIVO_HISTORICO = LIMITE_MOTIVO + 50

MENSAGEM_CPF_FORMATO = _(
    "CPF inválido: informe os 11 dígitos, com ou sem a máscara (ex.: 111.444.777-35)."
)
MENSAGEM_CPF_DIGITOS = _("CPF inválido: os dígitos verificadores não conferem.")

_RE_CPF_DIGITOS = re.compile(r"[0-9]{11}")
_RE_CPF_ESCRITO = re.compile(r"[0-9]{3}\.?[0-9]{3}\.?[0-9]{3}-?[0-9]{2}")


def normalizar_cpf(valor):
    """A CPF written ``000.000.000-00`` (or any part of that mask) → its 11 digits.

    Anything else is returned unchanged (None, "", garbage), for the
    validator to refuse with its own message.
    """
    if isinstance(valor, str):
        texto = valor.strip()
        if _RE_CPF_ESCRITO.fullmatch(texto):
            return texto.replace(".", "").replace("-", "")
    return valor


class CPFValidator(BRCPFValidator):
    """11 digits with valid check digits (Receita Federal's modulo-11 rule, django-localflavor).

    Expects the normalised value (see ``normalizar_cpf``). pt-BR messages:
    one for a value that is not 11 digits, one for wrong check digits.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.message = MENSAGEM_CPF_DIGITOS

    def __call__(self, value):
        if not isinstance(value, str) or not _RE_CPF_DIGITOS.fullmatch(value):
            raise ValidationError(MENSAGEM_CPF_FORMATO, code="formato")
        super().__call__(value)


class CPFFormField(forms.CharField):
    """Form field of ``CPFField``: accepts the mask; the model's validation says what is wrong."""

    def to_python(self, value):
        return normalizar_cpf(super().to_python(value))


class CPFField(models.CharField):
    """A CPF stored as its 11 digits, accepted with or without its mask wherever it comes in.

    ``full_clean`` and forms normalise ``111.444.777-35`` to ``11144477735``;
    so do lookups (``exact``; ``iexact`` and ``icontains``: the API's and the
    admin's search).
    A value that is not a CPF gets ``CPFValidator``'s messages, never a
    length message.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 11)
        super().__init__(*args, **kwargs)
        # The CPF validator's "informe os 11 dígitos" says it better than a length limit.
        self.validators[:] = [v for v in self.validators if not isinstance(v, MaxLengthValidator)]

    def to_python(self, value):
        return normalizar_cpf(super().to_python(value))

    def get_prep_value(self, value):
        return normalizar_cpf(super().get_prep_value(value))

    def formfield(self, **kwargs):
        # No max_length on the form: a masked CPF has 14 characters.
        return super().formfield(**{"form_class": CPFFormField, "max_length": None, **kwargs})


@CPFField.register_lookup
class CPFIExact(IExact):
    """``cpf__iexact`` (the API's ``=cpf`` search) with the value normalised like ``exact``."""

    prepare_rhs = True


@CPFField.register_lookup
class CPFIContains(IContains):
    """``cpf__icontains`` (the admin's search): a whole masked CPF is normalised first."""

    prepare_rhs = True


def texto_livre(verbose_name, limite: int, **kwargs) -> models.TextField:
    """A ``TextField`` of at most ``limite`` characters, enforced by ``full_clean`` and forms."""
    return models.TextField(
        verbose_name, max_length=limite, validators=[MaxLengthValidator(limite)], **kwargs
    )


# Brazilian phone: area code (DDD, 11-99) + 8 digits (landline) or 9 digits
# starting with 9 (mobile), per ANATEL's numbering plan; "+55", spaces,
# parentheses and a hyphen are allowed.
telefone_validator = RegexValidator(
    r"^(\+?55\s?)?\(?[1-9][1-9]\)?\s?(9\d{4}|[2-5]\d{3})-?\d{4}$",
    message=_("Telefone inválido: use DDD e número, ex.: (27) 99876-5432 ou (27) 3222-1100."),
)


class FimAgendamento(models.Func):
    """SQL for ``data_hora + duracao_minutos`` (an aware end datetime).

    Used as the expression of the stored generated column ``Agendamento.fim``,
    so the database keeps the end in step with the start and duration even
    when ``data_hora`` is changed by raw SQL.

    PostgreSQL requires an IMMUTABLE expression in a generated column, and
    ``timestamptz + interval`` is only STABLE (it depends on the session's
    time zone for day-sized intervals). Going through UTC wall-clock time
    (``timezone('UTC', ...)``, immutable) gives the same instant immutably.
    SQLite stores aware datetimes as UTC text, and ``strftime`` with a
    modifier is deterministic, which generated columns allow.
    """

    output_field = models.DateTimeField()

    def __init__(self, inicio: str = "data_hora", minutos: str = "duracao_minutos") -> None:
        super().__init__(models.F(inicio), models.F(minutos))

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError("Agendamento.fim is implemented for PostgreSQL and SQLite only.")

    def as_postgresql(self, compiler, connection, **extra_context):
        inicio, minutos = (compiler.compile(e) for e in self.get_source_expressions())
        sql = (
            f"((({inicio[0]}) AT TIME ZONE 'UTC') + make_interval(mins => {minutos[0]}))"
            " AT TIME ZONE 'UTC'"
        )
        return sql, (*inicio[1], *minutos[1])

    def as_sqlite(self, compiler, connection, **extra_context):
        inicio, minutos = (compiler.compile(e) for e in self.get_source_expressions())
        # Whole seconds from strftime, then the start's own fraction (Django
        # stores "YYYY-MM-DD HH:MM:SS[.ffffff]"): microseconds are kept and the
        # text compares correctly with Django's own datetime parameters.
        sql = (
            f"strftime('%%Y-%%m-%%d %%H:%%M:%%S', {inicio[0]}, '+' || {minutos[0]} || ' minutes')"
            f" || substr({inicio[0]}, 20)"
        )
        return sql, (*inicio[1], *minutos[1])


def _ano_local(instante) -> int:
    """The year of ``instante`` in the clinic's zone; a naive one is taken as local already."""
    if timezone.is_naive(instante) or not 1 < instante.year < 9999:
        return instante.year
    return timezone.localtime(instante).year


class Paciente(models.Model):
    """A patient. Personal data under the LGPD: never logged, never in errors."""

    nome = models.CharField(_("nome"), max_length=LIMITE_NOME)
    cpf = CPFField(
        _("CPF"),
        null=True,
        blank=True,
        unique=True,
        validators=[CPFValidator()],
        help_text=_("11 dígitos, com ou sem a máscara 000.000.000-00."),
    )
    data_nascimento = models.DateField(_("data de nascimento"), null=True, blank=True)
    telefone = models.CharField(
        _("telefone"), max_length=LIMITE_TELEFONE, blank=True, validators=[telefone_validator]
    )
    email = models.EmailField(_("e-mail"), max_length=LIMITE_EMAIL, blank=True)
    # Identifier in the system the row was imported from (e.g. PatientId of
    # the "Medical Appointment No Shows" data set); makes imports re-runnable.
    id_externo = models.CharField(
        _("identificador externo"),
        max_length=LIMITE_ID_EXTERNO,
        null=True,
        blank=True,
        unique=True,
    )
    created_at = models.DateTimeField(_("criado em"), auto_now_add=True)
    updated_at = models.DateTimeField(_("atualizado em"), auto_now=True)

    class Meta:
        verbose_name = _("paciente")
        verbose_name_plural = _("pacientes")
        ordering = ["nome", "id"]

    def __str__(self) -> str:
        return self.nome

    def clean(self) -> None:
        super().clean()
        if self.data_nascimento and self.data_nascimento > timezone.localdate():
            raise ValidationError(
                {"data_nascimento": _("A data de nascimento não pode estar no futuro.")}
            )


class Dentista(models.Model):
    """A dentist who sees patients; ``usuario`` is the optional login."""

    nome = models.CharField(_("nome"), max_length=LIMITE_NOME)
    cro = models.CharField(
        _("CRO"), max_length=LIMITE_CRO, blank=True, help_text=_("Ex.: CRO-SP 12345")
    )
    usuario = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("usuário"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="dentista",
    )
    ativo = models.BooleanField(_("ativo"), default=True)
    created_at = models.DateTimeField(_("criado em"), auto_now_add=True)
    updated_at = models.DateTimeField(_("atualizado em"), auto_now=True)

    class Meta:
        verbose_name = _("dentista")
        verbose_name_plural = _("dentistas")
        ordering = ["nome", "id"]

    def __str__(self) -> str:
        return f"{self.nome} ({self.cro})" if self.cro else self.nome


class Agendamento(models.Model):
    """An appointment: a patient with a dentist from ``data_hora`` to ``fim``.

    ``active`` is true exactly while the appointment is open (agendado or
    confirmado); a check constraint makes any other combination impossible.
    """

    class Status(models.TextChoices):
        AGENDADO = "agendado", _("Agendado")
        CONFIRMADO = "confirmado", _("Confirmado")
        CONCLUIDO = "concluido", _("Concluído")
        FALTOU = "faltou", _("Faltou")
        CANCELADO = "cancelado", _("Cancelado")

    STATUS_ABERTOS = (Status.AGENDADO, Status.CONFIRMADO)
    STATUS_FECHADOS = (Status.CONCLUIDO, Status.FALTOU, Status.CANCELADO)

    paciente = models.ForeignKey(
        Paciente,
        verbose_name=_("paciente"),
        on_delete=models.PROTECT,
        related_name="agendamentos",
        db_index=False,  # covered by agendamento_paciente_dh_idx
    )
    dentista = models.ForeignKey(
        Dentista,
        verbose_name=_("dentista"),
        on_delete=models.PROTECT,
        related_name="agendamentos",
        db_index=False,  # covered by agendamento_dentista_dh_idx
    )
    data_hora = models.DateTimeField(_("data e hora de início"))
    duracao_minutos = models.PositiveSmallIntegerField(
        _("duração (minutos)"),
        default=30,
        validators=[
            MinValueValidator(DURACAO_MINIMA_MINUTOS),
            MaxValueValidator(DURACAO_MAXIMA_MINUTOS),
        ],
    )
    # Computed and stored by the database from data_hora + duracao_minutos, so
    # it can never go stale, not even after a raw SQL UPDATE of data_hora.
    fim = models.GeneratedField(
        verbose_name=_("fim"),
        expression=FimAgendamento(),
        output_field=models.DateTimeField(),
        db_persist=True,
    )
    observacoes = texto_livre(_("observações"), LIMITE_OBSERVACOES, blank=True)
    status = models.CharField(
        _("situação"), max_length=12, choices=Status.choices, default=Status.AGENDADO
    )
    active = models.BooleanField(_("em aberto"), default=True, editable=False)
    # False once a person reopened an automatic close (services.agendamento_reabrir):
    # from then on a person decides how it ends, and the sweep leaves it alone.
    fechamento_automatico = models.BooleanField(
        _("fechamento automático"), default=True, editable=False
    )
    # The source had no time of day (e.g. the imported No-Show data set): the
    # time is a placeholder, so the double-booking rule does not apply.
    horario_estimado = models.BooleanField(_("horário estimado"), default=False, editable=False)
    cancelamento_tardio = models.BooleanField(
        _("cancelamento tardio"),
        default=False,
        editable=False,
        help_text=_("Cancelado menos de 24 horas antes do início."),
    )
    # Identifier in the system the row was imported from (AppointmentID).
    id_externo = models.CharField(
        _("identificador externo"),
        max_length=LIMITE_ID_EXTERNO,
        null=True,
        blank=True,
        unique=True,
    )
    created_at = models.DateTimeField(_("criado em"), auto_now_add=True)
    updated_at = models.DateTimeField(_("atualizado em"), auto_now=True)

    class Meta:
        verbose_name = _("agendamento")
        verbose_name_plural = _("agendamentos")
        ordering = ["data_hora", "id"]
        permissions = [
            ("agendar_retroativo", _("Pode agendar ou reagendar com data no passado")),
            (
                "agendar_fora_do_expediente",
                _("Pode agendar ou reagendar fora do expediente do dentista"),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="agendamento_active_sse_status_aberto",
                condition=(
                    Q(active=True, status__in=["agendado", "confirmado"])
                    | Q(active=False, status__in=["concluido", "faltou", "cancelado"])
                ),
                violation_error_message=_(
                    "Um agendamento está em aberto exatamente quando agendado ou confirmado."
                ),
            ),
            models.CheckConstraint(
                name="agendamento_duracao_entre_5_e_480",
                condition=Q(duracao_minutos__gte=DURACAO_MINIMA_MINUTOS)
                & Q(duracao_minutos__lte=DURACAO_MAXIMA_MINUTOS),
                violation_error_message=_("A duração deve ficar entre 5 e 480 minutos."),
            ),
        ]
        indexes = [
            # Serves the closing sweep (selectors.agendamentos_vencidos):
            #   WHERE active AND fechamento_automatico AND fim < :limite
            #   ORDER BY fim, id LIMIT :lote
            # Partial, so it holds only open appointments: an idle sweep costs
            # the same on a thousand rows of history as on ten million.
            models.Index(
                fields=["fim", "id"],
                condition=Q(active=True, fechamento_automatico=True),
                name="agendamento_aberto_fim_idx",
            ),
            # Serves the reminders' due-finder (apps.lembretes.selectors):
            #   WHERE active AND data_hora > :agora AND data_hora <= :agora + :antecedencia
            # Partial like the one above: open appointments only.
            models.Index(
                fields=["data_hora", "id"],
                condition=Q(active=True),
                name="agendamento_aberto_inicio_idx",
            ),
            # The schedule: a dentist's agenda by time.
            models.Index(fields=["dentista", "data_hora"], name="agendamento_dentista_dh_idx"),
            models.Index(fields=["paciente", "data_hora"], name="agendamento_paciente_dh_idx"),
        ]

    def __str__(self) -> str:
        return f"Agendamento #{self.pk}"

    def clean(self) -> None:
        """Reject start times the clinic cannot mean (and that overflow date arithmetic)."""
        super().clean()
        # The year of the clinic's calendar (TIME_ZONE), not of the instant's own
        # zone: a start loaded from the database is in UTC.
        if (
            self.data_hora is not None
            and not ANO_MINIMO <= _ano_local(self.data_hora) <= ANO_MAXIMO
        ):
            raise ValidationError(
                {"data_hora": _("Informe uma data entre os anos de 1900 e 2100.")}
            )

    @property
    def fim_calculado(self):
        """End of the appointment (aware datetime) computed from the fields in memory.

        Unlike ``fim``, which the database fills in on save, this is right
        for an unsaved or just-edited instance.
        """
        return self.data_hora + timedelta(minutes=self.duracao_minutos)


class Atendimento(models.Model):
    """The visit record of a concluded appointment: at most one per appointment."""

    class Origem(models.TextChoices):
        MANUAL = "manual", _("Manual")
        AUTOMATICO = "automatico", _("Automático")

    agendamento = models.OneToOneField(
        Agendamento,
        verbose_name=_("agendamento"),
        on_delete=models.PROTECT,
        related_name="atendimento",
    )
    diagnostico = texto_livre(_("diagnóstico"), LIMITE_TEXTO_CLINICO, blank=True)
    tratamento_realizado = texto_livre(_("tratamento realizado"), LIMITE_TEXTO_CLINICO, blank=True)
    origem = models.CharField(
        _("origem"), max_length=12, choices=Origem.choices, default=Origem.MANUAL
    )
    # Set when the dentist edits an automatic record: a person has reviewed it.
    revisado_em = models.DateTimeField(_("revisado em"), null=True, blank=True, editable=False)
    revisado_por = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revisado por"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    created_at = models.DateTimeField(_("criado em"), auto_now_add=True)
    updated_at = models.DateTimeField(_("atualizado em"), auto_now=True)

    class Meta:
        verbose_name = _("atendimento")
        verbose_name_plural = _("atendimentos")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Atendimento #{self.pk} (agendamento #{self.agendamento_id})"


class HistoricoStatus(models.Model):
    """One status transition of an appointment. Append-only.

    The actor is a user, the patient (``pelo_paciente``: through the signed
    link of a reminder, apps.lembretes), or the system (``usuario`` empty), in
    which case ``task_id`` holds the Celery task id when a task did it.
    """

    agendamento = models.ForeignKey(
        Agendamento,
        verbose_name=_("agendamento"),
        on_delete=models.CASCADE,
        related_name="historico",
    )
    status_anterior = models.CharField(
        _("situação anterior"), max_length=12, blank=True, choices=Agendamento.Status.choices
    )
    status_novo = models.CharField(
        _("nova situação"), max_length=12, choices=Agendamento.Status.choices
    )
    registrado_em = models.DateTimeField(_("registrado em"))
    usuario = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("usuário"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    task_id = models.CharField(_("tarefa Celery"), max_length=64, blank=True)
    # db_default too: the sweep and the import write history rows with raw INSERT … SELECT.
    pelo_paciente = models.BooleanField(_("pelo paciente"), default=False, db_default=False)
    motivo = texto_livre(_("motivo"), LIMITE_MOTIVO_HISTORICO, blank=True)

    class Meta:
        verbose_name = _("histórico de situação")
        verbose_name_plural = _("históricos de situação")
        ordering = ["registrado_em", "id"]
        indexes = [models.Index(fields=["agendamento", "registrado_em"], name="historico_ag_idx")]

    def __str__(self) -> str:
        return f"{self.status_anterior or '—'} → {self.status_novo}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise TypeError("HistoricoStatus is append-only: rows are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("HistoricoStatus is append-only: rows are never deleted.")

    @property
    def ator(self) -> str:
        """Who made the transition: the username, "paciente", or "sistema" plus the task id."""
        if self.pelo_paciente:
            return "paciente"
        if self.usuario_id:
            return str(self.usuario)
        return f"sistema ({self.task_id})" if self.task_id else "sistema"


class ExecucaoVarredura(models.Model):
    """One run of the closing sweep (the task), as the dead-man check reads it.

    Written by the sweep task only (``apps/clinic/tasks.py``): a row when the
    run starts, completed when it ends. ``/health/ready`` (apps/operacao)
    turns red when the newest run that started sweeping is too old for the
    schedule. Only the last ``VARREDURA_EXECUCOES_MANTIDAS`` rows are kept
    (the task deletes older ones), so the table stays small.
    """

    class Resultado(models.TextChoices):
        EM_ANDAMENTO = "em_andamento", _("em andamento")
        CONCLUIDA = "concluida", _("concluída")
        PULADA = "pulada", _("pulada (outra execução tinha o lock)")
        FALHOU = "falhou", _("falhou")

    task_id = models.CharField(_("tarefa Celery"), max_length=64, blank=True)
    iniciada_em = models.DateTimeField(_("iniciada em"))
    terminada_em = models.DateTimeField(_("terminada em"), null=True, blank=True)
    resultado = models.CharField(
        _("resultado"), max_length=12, choices=Resultado.choices, default=Resultado.EM_ANDAMENTO
    )
    fechados = models.PositiveIntegerField(_("fechados"), default=0)
    # Due appointments left open because of bad data (patient or dentist gone,
    # end not after start): the ids are in the worker's log.
    ignorados = models.PositiveIntegerField(_("ignorados (dados ruins)"), default=0)

    class Meta:
        verbose_name = _("execução da varredura")
        verbose_name_plural = _("execuções da varredura")
        # Newest first; ids grow with time, and the primary key's index serves
        # both the dead-man check's "newest run" and the task's purge.
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"Varredura #{self.pk} ({self.get_resultado_display()})"
