"""Reminder rules and the record of every reminder (sent, skipped or failed).

``Lembrete`` is the sent-reminder record: unique on (appointment, rule, the
appointment's start), so a reminder goes out at most once per start time,
and a rescheduled appointment (a new start) gets reminders of its own.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.clinic.models import Agendamento

# A rule fires between 5 minutes and 14 days before the start.
ANTECEDENCIA_MINIMA_MINUTOS = 5
ANTECEDENCIA_MAXIMA_MINUTOS = 14 * 24 * 60
LIMITE_MODELO = 1000  # characters of a message template


class Canal(models.TextChoices):
    """Channels a rule can use; each is an adapter in ``apps.lembretes.canais``."""

    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Webhook (SMS/WhatsApp por um provedor)")


class RegraLembrete(models.Model):
    """Send a reminder ``antecedencia_minutos`` before each open appointment's start.

    The reminder is due at ``data_hora - antecedencia`` and may still go out
    until ``tolerancia_minutos`` after that (never after the start); past
    that window it is recorded as skipped, not sent late.
    """

    nome = models.CharField(_("nome"), max_length=100)
    antecedencia_minutos = models.PositiveIntegerField(
        _("antecedência (minutos)"),
        validators=[
            MinValueValidator(ANTECEDENCIA_MINIMA_MINUTOS),
            MaxValueValidator(ANTECEDENCIA_MAXIMA_MINUTOS),
        ],
        help_text=_("Quanto tempo antes do início do agendamento o lembrete sai (1440 = 24 h)."),
    )
    tolerancia_minutos = models.PositiveIntegerField(
        _("tolerância (minutos)"),
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 60)],
        help_text=_(
            "Até quanto tempo depois do horário previsto o lembrete ainda pode sair; "
            "depois disso ele é registrado como não enviado (janela perdida)."
        ),
    )
    canal = models.CharField(_("canal"), max_length=20, choices=Canal.choices, default=Canal.EMAIL)
    assunto = models.CharField(
        _("assunto"), max_length=150, blank=True, help_text=_("Só para e-mail.")
    )
    modelo = models.TextField(
        _("mensagem"),
        max_length=LIMITE_MODELO,
        help_text=_(
            "Marcadores: {paciente} (primeiro nome), {data}, {hora}, {dentista}, {clinica}, {link}."
        ),
    )
    ativa = models.BooleanField(_("ativa"), default=True)
    created_at = models.DateTimeField(_("criada em"), auto_now_add=True)
    updated_at = models.DateTimeField(_("atualizada em"), auto_now=True)

    class Meta:
        verbose_name = _("regra de lembrete")
        verbose_name_plural = _("regras de lembrete")
        ordering = ["-antecedencia_minutos", "id"]

    def __str__(self) -> str:
        return self.nome

    def clean(self) -> None:
        """Refuse a template with an unknown or unsafe placeholder (``modelos.validar_modelo``).

        Also a subject with a line break (an e-mail header cannot hold one).
        Raises ``ValidationError`` keyed by field ("assunto", "modelo").
        """
        from django.core.exceptions import ValidationError

        from .modelos import validar_modelo

        super().clean()
        erros = {}
        for campo in ("assunto", "modelo"):
            try:
                validar_modelo(getattr(self, campo))
            except ValidationError as erro:
                erros[campo] = erro
        if "assunto" not in erros and ("\n" in self.assunto or "\r" in self.assunto):
            erros["assunto"] = ValidationError(
                _("O assunto não pode ter quebra de linha."), code="quebra_de_linha"
            )
        if erros:
            raise ValidationError(erros)


class Lembrete(models.Model):
    """One reminder of one appointment by one rule, for one start time.

    Written by the due-finder (``situacao`` pendente, or ignorado with a
    ``motivo``), claimed by the send task (pendente → enviando, a
    conditional UPDATE), then enviado or falhou. ``inicio`` is the
    appointment's ``data_hora`` when the reminder was due: a reschedule
    makes new rows due and leaves these to be discarded.
    """

    class Situacao(models.TextChoices):
        PENDENTE = "pendente", _("Pendente")
        ENVIANDO = "enviando", _("Enviando")
        ENVIADO = "enviado", _("Enviado")
        FALHOU = "falhou", _("Falhou")
        IGNORADO = "ignorado", _("Não enviado")

    class Motivo(models.TextChoices):
        """Why a reminder was not sent (``situacao`` ignorado or falhou)."""

        JANELA_PASSADA = "janela_passada", _("O horário do lembrete já tinha passado")
        SEM_CONTATO = "sem_contato", _("Paciente sem contato para este canal")
        AGENDAMENTO_FECHADO = (
            "agendamento_fechado",
            _("O agendamento foi cancelado, teve falta ou foi concluído"),
        )
        REMARCADO = "remarcado", _("O agendamento foi remarcado")
        REGRA_INATIVA = "regra_inativa", _("A regra foi desativada")
        ERRO_PERMANENTE = "erro_permanente", _("O canal recusou a mensagem")
        TENTATIVAS_ESGOTADAS = "tentativas_esgotadas", _("O canal falhou em todas as tentativas")
        INTERROMPIDO = "interrompido", _("O envio foi interrompido (situação incerta)")

    agendamento = models.ForeignKey(
        Agendamento,
        verbose_name=_("agendamento"),
        on_delete=models.CASCADE,
        related_name="lembretes",
    )
    regra = models.ForeignKey(
        RegraLembrete,
        verbose_name=_("regra"),
        on_delete=models.PROTECT,
        related_name="lembretes",
    )
    inicio = models.DateTimeField(_("início do agendamento"))
    canal = models.CharField(_("canal"), max_length=20, choices=Canal.choices)
    previsto_para = models.DateTimeField(_("previsto para"))
    situacao = models.CharField(
        _("situação"), max_length=12, choices=Situacao.choices, default=Situacao.PENDENTE
    )
    motivo = models.CharField(_("motivo"), max_length=30, choices=Motivo.choices, blank=True)
    # The channel's error, without the message or the address (status code,
    # exception class): what the gestor needs to act.
    detalhe = models.CharField(_("detalhe"), max_length=200, blank=True)
    tentativas = models.PositiveSmallIntegerField(_("tentativas"), default=0)
    proxima_tentativa_em = models.DateTimeField(_("próxima tentativa em"), null=True, blank=True)
    enviado_em = models.DateTimeField(_("enviado em"), null=True, blank=True)
    # The patient's answer through this reminder's link (confirmado or
    # cancelado): set once, in the same transaction as the status change.
    resposta = models.CharField(
        _("resposta do paciente"),
        max_length=12,
        blank=True,
        choices=[
            (Agendamento.Status.CONFIRMADO, Agendamento.Status.CONFIRMADO.label),
            (Agendamento.Status.CANCELADO, Agendamento.Status.CANCELADO.label),
        ],
    )
    respondido_em = models.DateTimeField(_("respondido em"), null=True, blank=True)
    created_at = models.DateTimeField(_("criado em"), auto_now_add=True)
    updated_at = models.DateTimeField(_("atualizado em"), auto_now=True)

    class Meta:
        verbose_name = _("lembrete")
        verbose_name_plural = _("lembretes")
        ordering = ["-previsto_para", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agendamento", "regra", "inicio"], name="lembrete_unico_por_inicio"
            ),
        ]
        indexes = [
            # The due-finder re-enqueues pending rows (a lost message, a retry):
            #   WHERE situacao = 'pendente' AND proxima_tentativa_em <= :agora
            models.Index(
                fields=["proxima_tentativa_em", "id"],
                condition=models.Q(situacao="pendente"),
                name="lembrete_pendente_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Lembrete #{self.pk}"


class AgendamentoConfirmacao(Agendamento):
    """The front desk's view of the schedule: who has not confirmed, and what was sent.

    A proxy (no table of its own): the admin's "Confirmações" page lists
    appointments with their reminders, for the receptionist to call.
    """

    class Meta:
        proxy = True
        verbose_name = _("confirmação")
        verbose_name_plural = _("confirmações")
