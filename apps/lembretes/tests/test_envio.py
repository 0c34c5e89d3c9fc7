"""The send: the claim, the re-checks, retries with backoff, permanent and unknown errors."""

import logging
import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection

from apps.clinic import services as clinica
from apps.lembretes import canais, services
from apps.lembretes.canais import Canal, ErroPermanente, ErroTransitorio
from apps.lembretes.models import Lembrete

from .apoio import agendar, regras_do_teste

S, M = Lembrete.Situacao, Lembrete.Motivo


class CanalDeTeste(Canal):
    """Records what it is given; raises the scripted errors first, one per call."""

    codigo = "email"
    campo_paciente = "email"
    enviadas: list = []
    erros: list = []

    def enviar(self, mensagem):
        if CanalDeTeste.erros:
            raise CanalDeTeste.erros.pop(0)
        CanalDeTeste.enviadas.append(mensagem)


@pytest.fixture
def canal(monkeypatch):
    CanalDeTeste.enviadas, CanalDeTeste.erros = [], []
    monkeypatch.setitem(canais.ADAPTADORES, "email", CanalDeTeste)
    return CanalDeTeste


@pytest.fixture
def pendente(db, relogio_parado, django_capture_on_commit_callbacks):
    """A pending reminder, due at AGORA, of an appointment 23 h ahead."""
    regras_do_teste()
    agendamento = agendar(relogio_parado + timedelta(hours=23), now=relogio_parado)
    with django_capture_on_commit_callbacks(execute=True):
        services.buscar_devidos(now=relogio_parado, publicar=lambda ids: None)
    return agendamento.lembretes.get()


def _estado(lembrete):
    lembrete.refresh_from_db()
    return lembrete.situacao, lembrete.motivo


def test_of_two_claims_one_wins(pendente, relogio_parado):
    assert services.lembrete_reivindicar(pendente.pk, now=relogio_parado) is True
    assert services.lembrete_reivindicar(pendente.pk, now=relogio_parado) is False
    assert _estado(pendente) == (S.ENVIANDO, "")
    assert pendente.tentativas == 1


def test_a_send_renders_the_message_and_records_it_sent(pendente, relogio_parado, canal, caplog):
    caplog.set_level(logging.INFO)
    resultado = services.lembrete_enviar(pendente.pk, now=relogio_parado)

    assert resultado == services.Resultado(S.ENVIADO)
    assert _estado(pendente) == (S.ENVIADO, "")
    assert pendente.enviado_em == relogio_parado
    [mensagem] = canal.enviadas
    assert mensagem.para == "maria.souza@example.com"
    assert mensagem.chave == f"lembrete-{pendente.pk}"
    assert "Olá, Maria! Consulta em 03/12/2026 às 09:00 com Dra. Alice Souza" in mensagem.texto
    assert "/confirmar/" in mensagem.texto
    assert "Sigilosa" not in mensagem.texto and "DIAGNOSTICO" not in mensagem.texto
    # A second message for the same reminder sends nothing.
    assert services.lembrete_enviar(pendente.pk, now=relogio_parado).situacao == "nada"
    assert len(canal.enviadas) == 1
    # The log names ids and outcomes only.
    for segredo in ("Maria", "Souza", "example.com", "Consulta em", "98765"):
        assert segredo not in caplog.text
    assert f"reminder {pendente.pk}" in caplog.text


@pytest.mark.parametrize(
    ("mudanca", "motivo"),
    [
        ("cancelar", M.AGENDAMENTO_FECHADO),
        ("reagendar", M.REMARCADO),
        ("desativar", M.REGRA_INATIVA),
        ("atrasar", M.JANELA_PASSADA),
    ],
)
def test_the_claim_rechecks_the_appointment_the_rule_and_the_window(
    pendente, relogio_parado, canal, mudanca, motivo
):
    agora = relogio_parado
    agendamento = pendente.agendamento
    if mudanca == "cancelar":
        clinica.agendamento_cancelar(agendamento, usuario=None, now=agora, motivo="x")
    elif mudanca == "reagendar":
        clinica.agendamento_reagendar(
            agendamento, usuario=None, now=agora, data_hora=agora + timedelta(hours=23, minutes=30)
        )
    elif mudanca == "desativar":
        pendente.regra.ativa = False
        pendente.regra.save()
    else:  # the worker was down: the message arrives past the 2 h tolerance
        agora += timedelta(hours=2, minutes=1)

    with time_machine.travel(agora, tick=False):
        assert services.lembrete_enviar(pendente.pk, now=agora).situacao == "nada"
    assert _estado(pendente) == (S.IGNORADO, motivo)
    assert canal.enviadas == []


def test_a_patient_whose_email_was_removed_gets_sem_contato(pendente, relogio_parado, canal):
    paciente = pendente.agendamento.paciente
    paciente.email = ""
    paciente.save()
    assert services.lembrete_enviar(pendente.pk, now=relogio_parado).situacao == S.IGNORADO
    assert _estado(pendente) == (S.IGNORADO, M.SEM_CONTATO)


def test_transient_errors_back_off_then_give_up_after_the_last_attempt(
    pendente, relogio_parado, canal, settings
):
    settings.LEMBRETES_MAX_TENTATIVAS = 5
    canal.erros = [ErroTransitorio("SMTP 451 (SMTPDataError)") for _ in range(5)]
    agora = relogio_parado
    esperas = []
    for _ in range(4):
        with time_machine.travel(agora, tick=False):
            resultado = services.lembrete_enviar(pendente.pk, now=agora)
        assert _estado(pendente) == (S.PENDENTE, "")
        assert pendente.proxima_tentativa_em == agora + timedelta(seconds=resultado.espera_segundos)
        esperas.append(resultado.espera_segundos)
        agora += timedelta(seconds=resultado.espera_segundos)
    assert esperas == [30, 60, 120, 240]
    assert pendente.detalhe == "SMTP 451 (SMTPDataError)"

    with time_machine.travel(agora, tick=False):
        resultado = services.lembrete_enviar(pendente.pk, now=agora)
    assert resultado == services.Resultado(S.FALHOU)
    assert _estado(pendente) == (S.FALHOU, M.TENTATIVAS_ESGOTADAS)
    assert pendente.tentativas == 5
    assert canal.enviadas == []


def test_a_transient_error_then_success_sends_once(pendente, relogio_parado, canal):
    canal.erros = [ErroTransitorio("webhook: HTTP 503")]
    assert services.lembrete_enviar(pendente.pk, now=relogio_parado).espera_segundos == 30
    depois = relogio_parado + timedelta(seconds=30)
    with time_machine.travel(depois, tick=False):
        assert services.lembrete_enviar(pendente.pk, now=depois).situacao == S.ENVIADO
    assert len(canal.enviadas) == 1
    assert _estado(pendente) == (S.ENVIADO, "")
    assert pendente.tentativas == 2 and pendente.detalhe == ""


def test_a_permanent_error_fails_at_once_with_a_detail_free_of_personal_data(
    pendente, relogio_parado, canal
):
    canal.erros = [ErroPermanente("SMTP 550 (SMTPRecipientsRefused)")]
    assert services.lembrete_enviar(pendente.pk, now=relogio_parado) == services.Resultado(S.FALHOU)
    assert _estado(pendente) == (S.FALHOU, M.ERRO_PERMANENTE)
    assert pendente.detalhe == "SMTP 550 (SMTPRecipientsRefused)"


def test_an_unexpected_exception_is_recorded_interrupted_and_never_retried(
    pendente, relogio_parado, canal
):
    canal.erros = [RuntimeError("maria.souza@example.com caiu")]
    assert services.lembrete_enviar(pendente.pk, now=relogio_parado).situacao == S.FALHOU
    assert _estado(pendente) == (S.FALHOU, M.INTERROMPIDO)
    assert pendente.detalhe == "RuntimeError"


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_in_threads_one_wins(relogio_parado):
    regras_do_teste()
    agendamento = agendar(relogio_parado + timedelta(hours=23), now=relogio_parado)
    services.buscar_devidos(now=relogio_parado, publicar=lambda ids: None)
    lembrete = agendamento.lembretes.get()
    barreira = threading.Barrier(4)
    ganhou: list[bool] = []

    def reivindicar():
        try:
            barreira.wait(5)
            ganhou.append(services.lembrete_reivindicar(lembrete.pk, now=relogio_parado))
        finally:
            connection.close()

    threads = [threading.Thread(target=reivindicar) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(ganhou) == [False, False, False, True]
    assert Lembrete.objects.get(pk=lembrete.pk).tentativas == 1
