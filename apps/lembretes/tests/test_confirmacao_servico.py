"""The confirmation service: every state of a link, and each answer changes the status once."""

from datetime import timedelta

import pytest
import time_machine
from django.core import signing

from apps.clinic import services
from apps.clinic.models import Agendamento, HistoricoStatus
from apps.clinic.tests.conftest import relogio_parado  # noqa: F401
from apps.clinic.tests.relogio import AGORA
from apps.lembretes import links
from apps.lembretes.confirmacao import MOTIVO_CANCELAMENTO, Estado, Resultado, avaliar, responder
from apps.lembretes.links import token_para

from .apoio_confirmacao import agendamento, lembrete_enviado, retrato

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relogio_parado")]

# AGORA is Wednesday 10:00 in São Paulo: tomorrow 15:00 is 29 h ahead, tomorrow 09:00 is 23 h.
AMANHA_15H = AGORA + timedelta(days=1, hours=5)
AMANHA_9H = AGORA + timedelta(hours=23)


@pytest.fixture
def ag():
    return agendamento(AMANHA_15H, now=AGORA)


@pytest.fixture
def lembrete(ag):
    return lembrete_enviado(ag, enviado_em=AGORA - timedelta(hours=1))


def test_a_fresh_link_offers_to_confirm_or_cancel(lembrete, ag):
    situacao = avaliar(token_para(lembrete), now=AGORA)
    assert situacao.estado is Estado.OK
    assert situacao.agendamento.pk == ag.pk
    assert not situacao.ja_confirmado


def test_confirming_sets_confirmado_with_the_patient_as_actor_and_marks_the_reminder(lembrete, ag):
    resposta = responder(token_para(lembrete), "confirmar", now=AGORA)

    assert resposta.resultado is Resultado.CONFIRMADO
    ag.refresh_from_db()
    assert ag.status == Agendamento.Status.CONFIRMADO
    ultimo = HistoricoStatus.objects.filter(agendamento=ag).last()
    assert (ultimo.status_novo, ultimo.ator, ultimo.usuario_id) == ("confirmado", "paciente", None)
    lembrete.refresh_from_db()
    assert (lembrete.resposta, lembrete.respondido_em) == ("confirmado", AGORA)


def test_cancelling_more_than_24_hours_ahead_is_not_late(lembrete, ag):
    resposta = responder(token_para(lembrete), "cancelar", now=AGORA)

    assert resposta.resultado is Resultado.CANCELADO
    ag.refresh_from_db()
    assert (ag.status, ag.active, ag.cancelamento_tardio) == ("cancelado", False, False)
    ultimo = HistoricoStatus.objects.filter(agendamento=ag).last()
    assert ultimo.ator == "paciente"
    assert ultimo.motivo == MOTIVO_CANCELAMENTO


def test_cancelling_under_24_hours_ahead_is_late_as_in_the_api():
    ag = agendamento(AMANHA_9H, now=AGORA)
    lembrete = lembrete_enviado(ag, enviado_em=AGORA)

    responder(token_para(lembrete), "cancelar", now=AGORA)

    ag.refresh_from_db()
    assert (ag.status, ag.cancelamento_tardio) == ("cancelado", True)
    assert (
        HistoricoStatus.objects.filter(agendamento=ag)
        .last()
        .motivo.endswith("[cancelamento tardio]")
    )


def test_a_second_answer_through_the_same_link_changes_nothing(lembrete, ag):
    token = token_para(lembrete)
    responder(token, "confirmar", now=AGORA)
    antes = retrato(ag)

    for acao in ("confirmar", "cancelar"):
        resposta = responder(token, acao, now=AGORA + timedelta(minutes=1))
        assert resposta.resultado is Resultado.RECUSADO
        assert resposta.situacao.estado is Estado.USADO
    assert retrato(ag) == antes
    assert avaliar(token, now=AGORA).estado is Estado.USADO


def test_confirming_what_the_front_desk_already_confirmed_is_no_error_and_records_nothing(
    lembrete, ag
):
    services.agendamento_confirmar(ag, usuario=None, now=AGORA)
    antes = retrato(ag)

    situacao = avaliar(token_para(lembrete), now=AGORA)
    assert (situacao.estado, situacao.ja_confirmado) == (Estado.OK, True)
    resposta = responder(token_para(lembrete), "confirmar", now=AGORA)

    assert resposta.resultado is Resultado.JA_CONFIRMADO
    assert retrato(ag) == antes


def test_a_confirmed_appointment_can_still_be_cancelled_by_the_patient(lembrete, ag):
    services.agendamento_confirmar(ag, usuario=None, now=AGORA)

    assert responder(token_para(lembrete), "cancelar", now=AGORA).resultado is Resultado.CANCELADO
    ag.refresh_from_db()
    assert ag.status == "cancelado"


@pytest.mark.parametrize(
    "fechar",
    [
        lambda ag: services.agendamento_cancelar(ag, usuario=None, now=AGORA, motivo="Recepção"),
        lambda ag: services.agendamento_marcar_falta(
            ag, usuario=None, now=AMANHA_15H + timedelta(minutes=5)
        ),
    ],
    ids=["cancelado pela recepção", "faltou"],
)
def test_a_closed_appointment_gets_the_closed_page_and_no_change(lembrete, ag, fechar):
    fechar(ag)
    antes = retrato(ag)
    token = token_para(lembrete)

    assert avaliar(token, now=AGORA).estado is Estado.FECHADO
    resposta = responder(token, "confirmar", now=AGORA)
    assert (resposta.resultado, resposta.situacao.estado) == (Resultado.RECUSADO, Estado.FECHADO)
    assert retrato(ag) == antes


def test_a_moved_appointment_makes_the_old_link_outdated(lembrete, ag):
    services.agendamento_reagendar(
        ag, usuario=None, now=AGORA, data_hora=AMANHA_15H + timedelta(hours=1)
    )
    antes = retrato(ag)
    token = token_para(lembrete)

    assert avaliar(token, now=AGORA).estado is Estado.DESATUALIZADO
    for acao in ("confirmar", "cancelar"):
        assert responder(token, acao, now=AGORA).situacao.estado is Estado.DESATUALIZADO
    assert retrato(ag) == antes


def test_a_link_whose_start_differs_from_the_reminders_is_outdated(lembrete, ag):
    # A token signed for another start than the reminder's own (e.g. an older row's).
    token = signing.dumps(
        {"l": lembrete.pk, "i": int((AMANHA_15H - timedelta(days=1)).timestamp())},
        salt=links.SALT,
        compress=False,
    )
    assert avaliar(token, now=AGORA).estado is Estado.DESATUALIZADO


def test_after_the_start_the_link_has_expired(lembrete, ag):
    antes = retrato(ag)
    token = token_para(lembrete)
    depois_do_inicio = AMANHA_15H + timedelta(seconds=1)

    assert avaliar(token, now=AMANHA_15H).estado is Estado.EXPIRADO
    resposta = responder(token, "confirmar", now=depois_do_inicio)
    assert resposta.situacao.estado is Estado.EXPIRADO
    assert retrato(ag) == antes


def test_a_signature_older_than_the_validity_has_expired(settings, lembrete, ag):
    settings.LEMBRETES_LINK_VALIDADE_DIAS = 1
    ag2 = agendamento(AGORA + timedelta(days=3), now=AGORA, cpf="111.444.777-35")
    lembrete2 = lembrete_enviado(ag2, enviado_em=AGORA)
    token = token_para(lembrete2)  # signed at AGORA
    antes = retrato(ag2)

    with time_machine.travel(AGORA + timedelta(days=1, minutes=1), tick=False):
        assert avaliar(token, now=AGORA + timedelta(days=1, minutes=1)).estado is Estado.EXPIRADO
        responder(token, "confirmar", now=AGORA + timedelta(days=1, minutes=1))
    assert retrato(ag2) == antes


def _variantes(token: str) -> dict[str, str]:
    meio = len(token) // 2
    trocado = token[:meio] + ("A" if token[meio] != "A" else "B") + token[meio + 1 :]
    return {
        "one character changed": trocado,
        "last character changed": token[:-1] + ("x" if token[-1] != "x" else "y"),
        "truncated": token[:-5],
        "another salt": signing.dumps({"l": 1, "i": 0}, salt="outro.sal"),
        "garbage": "abc:def:ghi",
        "empty payload": ":".join(token.split(":")[1:]),
        "very long": token + "A" * 100_000,
        "not json inside": signing.Signer(salt=links.SALT).sign("nada"),
        "timestamped, not json": signing.TimestampSigner(salt=links.SALT).sign("nada"),
        "json, not an object": signing.dumps([1, 2], salt=links.SALT),
        "object without the keys": signing.dumps({"x": 1}, salt=links.SALT),
    }


@pytest.mark.parametrize(
    "variante",
    [
        "one character changed",
        "last character changed",
        "truncated",
        "another salt",
        "garbage",
        "empty payload",
        "very long",
        "not json inside",
        "timestamped, not json",
        "json, not an object",
        "object without the keys",
    ],
)
def test_tampered_tokens_are_refused_without_any_write(lembrete, ag, variante):
    token = _variantes(token_para(lembrete))[variante]
    antes = retrato(ag)

    assert avaliar(token, now=AGORA).estado is Estado.ADULTERADO
    for acao in ("confirmar", "cancelar"):
        resposta = responder(token, acao, now=AGORA)
        assert (resposta.resultado, resposta.situacao.estado) == (
            Resultado.RECUSADO,
            Estado.ADULTERADO,
        )
        assert resposta.situacao.agendamento is None
    assert retrato(ag) == antes


def test_a_valid_signature_of_a_reminder_that_is_gone_is_closed(lembrete, ag):
    token = token_para(lembrete)
    lembrete.delete()
    assert avaliar(token, now=AGORA).estado is Estado.FECHADO
    assert responder(token, "confirmar", now=AGORA).resultado is Resultado.RECUSADO


def test_an_unknown_action_is_a_value_error(lembrete):
    with pytest.raises(ValueError):
        responder(token_para(lembrete), "apagar", now=AGORA)


def test_log_lines_carry_the_reminder_id_and_outcome_only(lembrete, ag, caplog):
    with caplog.at_level("INFO", logger="apps.lembretes"):
        responder(token_para(lembrete), "confirmar", now=AGORA)
    texto = caplog.text
    assert f"lembrete {lembrete.pk}" in texto and "confirmado" in texto
    for dado in ("Mariana", "Albuquerque", "529", "98765", "example.com", "pulpite", "Helena"):
        assert dado not in texto
