"""The confirmation page in a real browser (headless chromium), JavaScript off where it matters.

Marked ``celery_real``: chromium and chromedriver are real processes that
read the machine's clock (cookies' expiry, the page's own times), which
time-machine cannot move, and the root conftest refuses unmarked tests that
start processes while the suite's clock is moved. So these tests keep the
real clock and build every time from ``timezone.now()`` read once at their
start; the moved-clock passes leave them out, the normal passes run them.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from selenium.webdriver.common.by import By

from apps.clinic import services
from apps.clinic.models import Agendamento, HistoricoStatus
from apps.lembretes import views

from . import navegador
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

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.celery_real,
    pytest.mark.usefixtures("cache_local"),
]

DIAS = ["segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira", "sábado",
        "domingo"]  # fmt: skip
MESES = ["janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto",
         "setembro", "outubro", "novembro", "dezembro"]  # fmt: skip


def _por_extenso(instante) -> str:
    local = timezone.localtime(instante)
    return f"{DIAS[local.weekday()]}, {local.day} de {MESES[local.month - 1]} de {local.year}"


@pytest.fixture
def abrir():
    """``abrir(javascript=...)`` gives a browser, quit at the end of the test."""
    navegador.exigir_navegador()
    abertos = []

    def _abrir(**opcoes):
        abertos.append(navegador.abrir(**opcoes))
        return abertos[-1]

    yield _abrir
    for driver in abertos:
        driver.quit()


def _link(live_server, horas_ate_o_inicio: float, **paciente):
    agora = timezone.now()
    # Whole minutes, so the page's HH:MM is the start's.
    inicio = (agora + timedelta(hours=horas_ate_o_inicio)).replace(second=0, microsecond=0)
    ag = agendamento(inicio, now=agora, **paciente)
    lembrete = lembrete_enviado(ag, enviado_em=agora)
    return ag, live_server.url + caminho(lembrete)


def test_with_javascript_off_the_patient_sees_the_appointment_and_confirms(live_server, abrir):
    ag, url = _link(live_server, 30)
    driver = abrir(javascript=False)

    driver.get(url)
    navegador.esperar(driver, "#confirmar")
    texto = driver.find_element(By.TAG_NAME, "body").text
    assert _por_extenso(ag.data_hora) in texto
    assert timezone.localtime(ag.data_hora).strftime("%H:%M") in texto
    assert "Dra. Helena Prado" in texto and "Olá, Mariana!" in texto
    for dado in ("Albuquerque", CPF, TELEFONE, EMAIL, OBSERVACOES):
        assert dado not in driver.page_source
    captura = navegador.captura(driver, "confirmacao")
    assert captura.stat().st_size > 5_000

    resultado = navegador.clicar_e_esperar(driver, "#confirmar", "#resultado")
    assert resultado.text == "Consulta confirmada. Obrigado!"
    navegador.captura(driver, "confirmacao-resultado")
    ag.refresh_from_db()
    assert ag.status == Agendamento.Status.CONFIRMADO
    assert HistoricoStatus.objects.filter(agendamento=ag).last().ator == "paciente"

    # Reopening the link: the answer already given, and nothing changes.
    antes = retrato(ag)
    driver.get(url)
    assert navegador.esperar(driver, "#resultado").text == "Este lembrete já foi respondido"
    assert "Você confirmou a consulta em" in driver.find_element(By.ID, "resposta").text
    assert not driver.find_elements(By.CSS_SELECTOR, "button")
    assert retrato(ag) == antes


def test_cancel_asks_for_certainty_then_cancels_late_under_24_hours(live_server, abrir):
    ag, url = _link(live_server, 3)
    driver = abrir(javascript=False)
    driver.get(url)
    navegador.esperar(driver, "#cancelar")

    navegador.clicar_e_esperar(driver, "#cancelar", "#cancelar-sim")
    assert "Tem certeza?" in driver.find_element(By.TAG_NAME, "h1").text
    ag.refresh_from_db()
    assert ag.status == Agendamento.Status.AGENDADO

    resultado = navegador.clicar_e_esperar(driver, "#cancelar-sim", "#resultado")
    assert resultado.text == "Consulta cancelada"
    ag.refresh_from_db()
    assert (ag.status, ag.cancelamento_tardio) == ("cancelado", True)
    assert HistoricoStatus.objects.filter(agendamento=ag).last().ator == "paciente"


def test_tampered_expired_and_outdated_links_show_their_pages_and_change_nothing(
    live_server, abrir, settings
):
    driver = abrir(javascript=False)
    ag, url = _link(live_server, 30)
    ag_movido, url_movido = _link(live_server, 40, cpf="111.444.777-35")
    services.agendamento_reagendar(
        ag_movido,
        usuario=None,
        now=timezone.now(),
        data_hora=ag_movido.data_hora + timedelta(hours=1),
    )
    # A link signed longer ago than the validity (the signature's clock is this process's).
    with time_machine.travel(
        timezone.now() - timedelta(days=settings.LEMBRETES_LINK_VALIDADE_DIAS, minutes=1)
    ):
        expirado = live_server.url + caminho(ag.lembretes.get())
    adulterado = url[:-10] + ("A" if url[-10] != "A" else "B") + url[-9:]
    antes = [retrato(a) for a in (ag, ag_movido)]

    casos = [
        (adulterado, "adulterado", "Link inválido"),
        (expirado, "expirado", "Link expirado"),
        (url_movido, "desatualizado", "Agendamento alterado"),
        (live_server.url + "/confirmar/lixo/", "adulterado", "Link inválido"),
    ]
    for endereco, estado, titulo in casos:
        driver.get(endereco)
        h1 = navegador.esperar(driver, "#resultado")
        assert (h1.get_attribute("data-estado"), h1.text) == (estado, titulo)
        assert "Ligue para a" in driver.find_element(By.TAG_NAME, "body").text
        assert not driver.find_elements(By.CSS_SELECTOR, "button")
    assert [retrato(a) for a in (ag, ag_movido)] == antes


def test_the_page_fits_a_360_pixel_screen_with_javascript_on(live_server, abrir):
    _ag, url = _link(live_server, 30)
    driver = abrir(largura=360, altura=740)
    driver.get(url)
    navegador.esperar(driver, "#confirmar")
    largura, janela = driver.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert largura <= janela
    botao = driver.find_element(By.ID, "confirmar")
    assert botao.size["height"] >= 48  # a thumb-sized target
    assert botao.size["width"] >= 0.8 * janela


def test_under_no_referrer_the_browser_posts_origin_null_and_csrf_refuses(
    live_server, abrir, monkeypatch
):
    """Why the page sends Referrer-Policy: same-origin, not no-referrer (see views.py)."""
    ag, url = _link(live_server, 30)
    monkeypatch.setitem(views.CABECALHOS, "Referrer-Policy", "no-referrer")
    driver = abrir(javascript=False)
    driver.get(url)
    navegador.esperar(driver, "#confirmar").click()
    navegador.esperar(driver, "body")
    assert "CSRF" in driver.page_source or "403" in driver.page_source
    ag.refresh_from_db()
    assert ag.status == Agendamento.Status.AGENDADO
