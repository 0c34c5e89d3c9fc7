"""The webhook channel against a local HTTP server (http.server in a thread)."""

import time
from datetime import timedelta

import pytest
import time_machine

from apps.lembretes import services
from apps.lembretes.canais import ErroPermanente, ErroTransitorio, Mensagem
from apps.lembretes.canais.webhook import CanalWebhook
from apps.lembretes.models import Lembrete

from .apoio import ServidorHttp, agendar, regras_do_teste

pytestmark = pytest.mark.django_db
S, M = Lembrete.Situacao, Lembrete.Motivo


@pytest.fixture
def servidor(settings):
    """``servidor(codigos=[...]|mudo=True)``: a local HTTP server the webhook setting points at."""
    iniciados = []

    def iniciar(**opcoes) -> ServidorHttp:
        http = ServidorHttp(**opcoes)
        iniciados.append(http)
        settings.LEMBRETES_WEBHOOK_URL = http.url
        settings.LEMBRETES_WEBHOOK_TOKEN = "segredo-do-gateway"
        settings.LEMBRETES_WEBHOOK_TIMEOUT_SEGUNDOS = 0.5
        return http

    yield iniciar
    for http in iniciados:
        http.parar()


@pytest.fixture
def pendente(relogio_parado, django_capture_on_commit_callbacks):
    regras_do_teste(canal="webhook", assunto="")
    agendamento = agendar(relogio_parado + timedelta(hours=23), now=relogio_parado)
    with django_capture_on_commit_callbacks(execute=True):
        services.buscar_devidos(now=relogio_parado, publicar=lambda ids: None)
    return agendamento.lembretes.get()


def _estado(lembrete):
    lembrete.refresh_from_db()
    return lembrete.situacao, lembrete.motivo


def test_a_200_is_delivered_with_only_what_the_message_needs(pendente, relogio_parado, servidor):
    servidor = servidor(codigos=[200])
    assert services.lembrete_enviar(pendente.pk, now=relogio_parado).situacao == S.ENVIADO
    [(cabecalhos, corpo)] = servidor.pedidos
    assert set(corpo) == {"id", "canal", "para", "mensagem"}
    assert corpo["id"] == f"lembrete-{pendente.pk}" and corpo["canal"] == "webhook"
    assert corpo["para"] == "+5511987654321"
    assert corpo["mensagem"].startswith("Olá, Maria! Consulta em 03/12/2026 às 09:00")
    assert "DIAGNOSTICO" not in str(corpo) and "Sigilosa" not in str(corpo)
    assert cabecalhos["Idempotency-Key"] == f"lembrete-{pendente.pk}"
    assert cabecalhos["Authorization"] == "Bearer segredo-do-gateway"
    assert cabecalhos["Content-Type"] == "application/json"


def test_a_500_is_retried_and_delivered_once(pendente, relogio_parado, servidor):
    servidor = servidor(codigos=[500, 200])
    resultado = services.lembrete_enviar(pendente.pk, now=relogio_parado)
    assert resultado.espera_segundos == 30
    assert (pendente.refresh_from_db() or pendente.detalhe) == "webhook: HTTP 500"
    depois = relogio_parado + timedelta(seconds=30)
    with time_machine.travel(depois, tick=False):
        assert services.lembrete_enviar(pendente.pk, now=depois).situacao == S.ENVIADO
    assert len(servidor.pedidos) == 2
    # The same idempotency key on both attempts: a provider drops a repeat.
    assert {c["Idempotency-Key"] for c, _ in servidor.pedidos} == {f"lembrete-{pendente.pk}"}
    assert _estado(pendente) == (S.ENVIADO, "")


def test_a_400_fails_without_retry(pendente, relogio_parado, servidor):
    servidor = servidor(codigos=[400])
    assert services.lembrete_enviar(pendente.pk, now=relogio_parado).situacao == S.FALHOU
    assert _estado(pendente) == (S.FALHOU, M.ERRO_PERMANENTE)
    assert pendente.detalhe == "webhook: HTTP 400"
    assert services.lembrete_enviar(pendente.pk, now=relogio_parado).situacao == "nada"
    assert len(servidor.pedidos) == 1


@pytest.mark.parametrize(
    ("codigo", "erro"),
    [(429, ErroTransitorio), (503, ErroTransitorio), (404, ErroPermanente), (302, ErroPermanente)],
)
def test_status_codes_map_to_transient_or_permanent(settings, codigo, erro):
    http = ServidorHttp(codigos=[codigo])
    settings.LEMBRETES_WEBHOOK_URL = http.url
    try:
        with pytest.raises(erro) as capturado:
            CanalWebhook().enviar(Mensagem(chave="lembrete-1", para="+55", assunto="", texto="x"))
    finally:
        http.parar()
    assert capturado.value.detalhe == f"webhook: HTTP {codigo}"
    assert len(http.pedidos) == 1  # a redirect is never followed


def test_a_server_that_never_answers_is_a_transient_timeout(pendente, relogio_parado, servidor):
    servidor = servidor(mudo=True)
    resultado = services.lembrete_enviar(pendente.pk, now=relogio_parado)
    assert resultado.espera_segundos == 30
    assert _estado(pendente) == (S.PENDENTE, "")
    assert pendente.detalhe == "webhook: tempo esgotado"


def test_a_200_with_a_slow_endless_body_is_delivered_once_without_reading_it(
    pendente, relogio_parado, servidor
):
    # Found by the hostile review: requests read the whole answer; a gateway
    # that accepted the message but trickled (or broke) its body kept the
    # worker until the connection dropped, then the ChunkedEncodingError was
    # "transient" and the patient got the message again on the retry.
    servidor = servidor(corpo_lento=True)
    inicio = time.monotonic()
    assert services.lembrete_enviar(pendente.pk, now=relogio_parado).situacao == S.ENVIADO
    assert time.monotonic() - inicio < 2
    assert _estado(pendente) == (S.ENVIADO, "")
    assert len(servidor.pedidos) == 1


def test_no_url_configured_is_permanent(settings):
    settings.LEMBRETES_WEBHOOK_URL = ""
    with pytest.raises(ErroPermanente):
        CanalWebhook().enviar(Mensagem(chave="lembrete-1", para="+55", assunto="", texto="x"))
