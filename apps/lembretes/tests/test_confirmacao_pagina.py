"""The confirmation page through django.test.Client: what it shows, its headers, PRG, limits."""

from datetime import timedelta

import pytest
from django.test import Client

from apps.clinic import services
from apps.clinic.models import Agendamento
from apps.clinic.tests.conftest import relogio_parado  # noqa: F401
from apps.clinic.tests.relogio import AGORA

from .apoio_confirmacao import (
    CPF,
    EMAIL,
    OBSERVACOES,
    TELEFONE,
    agendamento,
    cache_local,  # noqa: F401
    caminho,
    lembrete_enviado,
    retrato,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relogio_parado", "cache_local")]

AMANHA_15H = AGORA + timedelta(days=1, hours=5)  # Thursday 2026-12-03 15:00 in São Paulo


@pytest.fixture
def ag():
    return agendamento(AMANHA_15H, now=AGORA)


@pytest.fixture
def url(ag):
    return caminho(lembrete_enviado(ag, enviado_em=AGORA - timedelta(hours=1)))


@pytest.fixture
def cliente():
    # CSRF checks on, as in production: the page's own token is posted back.
    return Client(enforce_csrf_checks=True)


def _postar(cliente, url, **dados):
    """POST as the page's form does, with the CSRF cookie an earlier GET of a good page set."""
    if "csrftoken" not in cliente.cookies:
        cliente.get(url)
    token = cliente.cookies["csrftoken"].value
    return cliente.post(url, {"csrfmiddlewaretoken": token, **dados})


def test_get_shows_day_time_dentist_clinic_and_first_name_only(cliente, url, ag, settings):
    resposta = cliente.get(url)

    assert resposta.status_code == 200
    html = resposta.content.decode()
    assert "quinta-feira, 3 de dezembro de 2026" in html
    assert "15:00" in html
    assert "Dra. Helena Prado" in html
    assert settings.CLINICA_NOME in html
    assert "Olá, Mariana!" in html
    assert 'name="viewport"' in html
    assert "<script" not in html
    # Never the rest of the name, CPF, phone, e-mail or clinical notes.
    for dado in ("Albuquerque", "Teixeira", CPF, "52998224725", TELEFONE, EMAIL, OBSERVACOES):
        assert dado not in html


def test_get_changes_nothing(cliente, url, ag):
    antes = retrato(ag)
    for _ in range(3):
        cliente.get(url)
        cliente.head(url)
    assert retrato(ag) == antes


def test_the_page_is_not_cached_indexed_or_leaked_by_referer(cliente, url):
    resposta = cliente.get(url)
    assert "no-store" in resposta["Cache-Control"]
    assert resposta["X-Robots-Tag"] == "noindex, nofollow"
    assert resposta["Referrer-Policy"] == "same-origin"
    assert "default-src 'none'" in resposta["Content-Security-Policy"]
    assert resposta["X-Frame-Options"] == "DENY"


def test_confirm_redirects_to_the_answer_page_and_records_the_patient(cliente, url, ag):
    resposta = _postar(cliente, url, acao="confirmar")

    assert resposta.status_code == 302
    assert resposta["Location"] == f"{url}?feito=1"
    ag.refresh_from_db()
    assert ag.status == Agendamento.Status.CONFIRMADO
    assert ag.historico.last().ator == "paciente"
    pagina = cliente.get(resposta["Location"]).content.decode()
    assert "Consulta confirmada. Obrigado!" in pagina
    assert "Você confirmou a consulta em 02/12/2026 às 10:00." in pagina


def test_a_second_post_shows_the_answer_already_given_and_changes_nothing(cliente, url, ag):
    _postar(cliente, url, acao="confirmar")
    antes = retrato(ag)

    resposta = _postar(cliente, url, acao="cancelar", certeza="sim")

    assert resposta.status_code == 200
    assert "Este lembrete já foi respondido" in resposta.content.decode()
    assert retrato(ag) == antes
    assert "Este lembrete já foi respondido" in cliente.get(url).content.decode()


def test_cancel_asks_first_and_only_the_second_form_cancels(cliente, url, ag):
    antes = retrato(ag)
    pergunta = _postar(cliente, url, acao="cancelar")
    assert pergunta.status_code == 200
    assert "Tem certeza?" in pergunta.content.decode()
    assert retrato(ag) == antes

    resposta = _postar(cliente, url, acao="cancelar", certeza="sim")
    assert resposta.status_code == 302
    ag.refresh_from_db()
    assert (ag.status, ag.cancelamento_tardio) == ("cancelado", False)
    assert "Consulta cancelada" in cliente.get(resposta["Location"]).content.decode()


def test_a_post_without_the_csrf_token_is_refused(cliente, url, ag):
    antes = retrato(ag)
    assert cliente.post(url, {"acao": "confirmar"}).status_code == 403
    assert retrato(ag) == antes


def test_an_unknown_action_is_a_400_and_changes_nothing(cliente, url, ag):
    antes = retrato(ag)
    assert _postar(cliente, url, acao="apagar").status_code == 400
    assert retrato(ag) == antes


def test_already_confirmed_by_the_front_desk_shows_so_and_offers_only_cancel(cliente, url, ag):
    services.agendamento_confirmar(ag, usuario=None, now=AGORA)
    antes = retrato(ag)

    html = cliente.get(url).content.decode()
    assert "Sua consulta já está confirmada" in html
    assert 'value="confirmar"' not in html and 'value="cancelar"' in html
    resposta = _postar(cliente, url, acao="confirmar")  # a form left open in another tab
    assert resposta.status_code == 200
    assert "Sua consulta já está confirmada" in resposta.content.decode()
    assert retrato(ag) == antes


@pytest.mark.parametrize(
    ("estragar", "status", "titulo"),
    [
        (lambda url, ag: url[:-8] + "AAAAAAA/", 400, "Link inválido"),
        (lambda url, ag: "/confirmar/" + "x" * 5000 + "/", 400, "Link inválido"),
        (lambda url, ag: "/confirmar/lixo/", 400, "Link inválido"),
        (
            lambda url, ag: (
                services.agendamento_reagendar(
                    ag, usuario=None, now=AGORA, data_hora=AMANHA_15H + timedelta(hours=2)
                ),
                url,
            )[1],
            409,
            "Agendamento alterado",
        ),
        (
            lambda url, ag: (
                services.agendamento_cancelar(ag, usuario=None, now=AGORA, motivo="Recepção"),
                url,
            )[1],
            409,
            "Agendamento encerrado",
        ),
    ],
    ids=["adulterado", "longo", "lixo", "desatualizado", "fechado"],
)
def test_bad_links_get_their_page_and_change_nothing(cliente, url, ag, estragar, status, titulo):
    cliente.get(url)  # the good page, open in a tab: its forms post after the link went bad
    url = estragar(url, ag)
    antes = retrato(ag)

    resposta = cliente.get(url)
    assert resposta.status_code == status
    html = resposta.content.decode()
    assert titulo in html and "Ligue para a" in html
    assert "Mariana" not in html
    assert _postar(cliente, url, acao="confirmar").status_code == status
    assert _postar(cliente, url, acao="cancelar", certeza="sim").status_code == status
    assert retrato(ag) == antes


def test_after_the_start_the_page_says_expired(cliente, url, ag, time_machine):
    antes = retrato(ag)
    time_machine.move_to(AMANHA_15H + timedelta(minutes=1), tick=False)
    resposta = cliente.get(url)
    assert resposta.status_code == 410
    assert "Link expirado" in resposta.content.decode()
    assert retrato(ag) == antes


def test_the_page_is_rate_limited_per_client_address(cliente, url, settings):
    settings.LEMBRETES_CONFIRMACAO_RATE = "5/m"
    assert all(cliente.get(url).status_code == 200 for _ in range(5))

    resposta = cliente.get(url)
    assert resposta.status_code == 429
    assert int(resposta["Retry-After"]) >= 1
    assert "Muitas tentativas" in resposta.content.decode()
    # Another address has its own count.
    assert cliente.get(url, REMOTE_ADDR="10.0.0.9").status_code == 200


def test_with_the_cache_down_the_page_still_works(cliente, url, settings, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    with caplog.at_level("WARNING", logger="apps.lembretes"):
        assert cliente.get(url).status_code == 200
    assert "rate limit not applied" in caplog.text


def test_log_lines_name_the_reminder_and_state_only(cliente, url, caplog):
    with caplog.at_level("INFO", logger="apps.lembretes"):
        cliente.get(url)
        _postar(cliente, url, acao="confirmar")
    assert "state ok" in caplog.text and "outcome confirmado" in caplog.text
    for dado in ("Mariana", "Helena", CPF, TELEFONE, EMAIL, url.split("/")[2]):
        assert dado not in caplog.text
