"""The calendar in a real browser (headless chromium), logging in through the admin's form.

Marked ``celery_real`` like apps/lembretes/tests/test_navegador.py: chromium
reads the machine's clock, which time-machine cannot move, so these tests
keep the real date, with the server's clock held at 10:00 of it (the
``clinica`` fixture), and build their data from that instant ("tomorrow" is
tomorrow's date, a working day for both dentists whatever its weekday,
holidays included: see conftest). The
receptionist's test runs with JavaScript off: nothing on the pages needs it.
Screenshots: artefatos/agenda-*.png.
"""

from __future__ import annotations

from datetime import datetime, time

import pytest
import time_machine
from django.utils import timezone
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from apps.clinic.models import Agendamento
from apps.lembretes.tests import navegador

from .conftest import SENHA, as_, montar_clinica

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.celery_real,
    pytest.mark.usefixtures("cache_local"),
]

LARGURA, ALTURA = 1400, 900
DESKTOP = {"width": LARGURA, "deviceScaleFactor": 1, "mobile": False}


@pytest.fixture
def abrir():
    """``abrir(javascript=...)``: a desktop-sized browser, quit at the end of the test."""
    navegador.exigir_navegador()
    abertos = []

    def _abrir(**opcoes):
        driver = navegador.abrir(largura=LARGURA, altura=ALTURA, **opcoes)
        abertos.append(driver)
        # A desktop screen, not the helper's phone: a mouse that hovers, 1 CSS px per pixel.
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**DESKTOP, "height": ALTURA})
        return driver

    yield _abrir
    for driver in abertos:
        driver.quit()


@pytest.fixture
def clinica(transactional_db):
    # The server (the live_server thread, in this process) at 10:00 of today's
    # date: a test started at 23:59 must not see "today" turn into tomorrow
    # between its data and its pages. Chromium keeps the machine's clock, which
    # only judges the cookies' expiry (hours, not weeks, from the server's time).
    hoje = timezone.localdate()
    agora = timezone.make_aware(datetime.combine(hoje, time(10)))
    with time_machine.travel(agora, tick=True):
        c = montar_clinica(agora, senha=SENHA)
        c.agora = agora
        yield c


def _entrar(driver, live_server, usuario, *, espera="#agenda"):
    """Open ``/``, log in on the admin's page as ``usuario``; wait for ``espera``."""
    driver.get(live_server.url + "/")
    navegador.esperar(driver, "#id_username")
    assert "/admin/login/?next=/agenda/" in driver.current_url
    driver.find_element(By.ID, "id_username").send_keys(usuario.username)
    driver.find_element(By.ID, "id_password").send_keys(SENHA)
    return navegador.clicar_e_esperar(driver, "#login-form input[type=submit]", espera)


def _captura_inteira(driver, nome: str):
    """A screenshot of the whole page (the window grown to its height), then the window back."""
    altura = driver.execute_script("return document.documentElement.scrollHeight")
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {**DESKTOP, "height": min(altura, 4000)}
    )
    try:
        return navegador.captura(driver, nome)
    finally:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**DESKTOP, "height": ALTURA})


def _coluna(driver, dentista, dia):
    return driver.find_element(By.ID, f"coluna-{dentista.pk}-{dia.isoformat()}")


def test_the_receptionist_books_tomorrows_free_slot_and_confirms_it(live_server, abrir, clinica):
    driver = abrir(javascript=False)
    hoje = timezone.localdate(clinica.agora)

    # / -> the login -> the calendar, today, one column per dentist.
    _entrar(driver, live_server, clinica.recepcao)
    assert driver.current_url == live_server.url + "/agenda/"
    assert len(driver.find_elements(By.CSS_SELECTOR, "section.coluna")) == 2
    assert _coluna(driver, clinica.dentista_a, hoje)

    # Tomorrow: the booked blocks with their patients and a free 08:00 for Dra. Alice.
    navegador.clicar_e_esperar(
        driver, "#proximo", f"#coluna-{clinica.dentista_a.pk}-{clinica.amanha}"
    )
    coluna_a = _coluna(driver, clinica.dentista_a, clinica.amanha)
    bloco = coluna_a.find_element(By.ID, f"agendamento-{clinica.a_amanha.pk}")
    assert "Mariana Costa" in bloco.text and "Agendado" in bloco.text and "30 min" in bloco.text
    livre = coluna_a.find_element(By.CSS_SELECTOR, "a.livre")
    assert livre.text == "Livre 08:00"
    _captura_inteira(driver, "agenda-dia-recepcao")

    # The free slot's page, filled in as a receptionist would.
    navegador.clicar_e_esperar(
        driver, f"#coluna-{clinica.dentista_a.pk}-{clinica.amanha} a.livre", "#agendar"
    )
    assert Select(driver.find_element(By.ID, "id_dentista")).first_selected_option.text.startswith(
        "Dra. Alice"
    )
    Select(driver.find_element(By.ID, "id_paciente")).select_by_visible_text("Joaquim Reis")
    driver.find_element(By.ID, "id_observacoes").send_keys("Primeira consulta")
    navegador.captura(driver, "agenda-agendar")
    navegador.clicar_e_esperar(driver, "#salvar", "#agenda")

    # Back on tomorrow's calendar with the new block.
    novo = Agendamento.objects.get(dentista=clinica.dentista_a, data_hora=as_(clinica.amanha, 8))
    assert novo.paciente == clinica.paciente_b and novo.status == Agendamento.Status.AGENDADO
    bloco = navegador.esperar(driver, f"#agendamento-{novo.pk}")
    assert "08:00 · Joaquim Reis" in bloco.text and "Agendado" in bloco.text
    assert "criado" in driver.find_element(By.CSS_SELECTOR, "ul.messagelist").text

    # Confirm it from its block.
    navegador.clicar_e_esperar(
        driver, f"#agendamento-{novo.pk} button.confirmar", f"#agendamento-{novo.pk}"
    )
    bloco = driver.find_element(By.ID, f"agendamento-{novo.pk}")
    assert bloco.get_attribute("data-status") == "confirmado" and "Confirmado" in bloco.text
    assert not bloco.find_elements(By.CSS_SELECTOR, "button.confirmar")
    novo.refresh_from_db()
    assert novo.status == Agendamento.Status.CONFIRMADO
    assert novo.historico.last().usuario == clinica.recepcao
    _captura_inteira(driver, "agenda-dia-recepcao-confirmado")


def test_a_dentist_sees_only_their_column_without_confirm_or_free_slots(
    live_server, abrir, clinica
):
    driver = abrir()
    _entrar(driver, live_server, clinica.usuario_a)
    navegador.clicar_e_esperar(
        driver, "#proximo", f"#coluna-{clinica.dentista_a.pk}-{clinica.amanha}"
    )
    colunas = driver.find_elements(By.CSS_SELECTOR, "section.coluna")
    assert [c.get_attribute("data-dentista") for c in colunas] == [str(clinica.dentista_a.pk)]
    pagina = driver.find_element(By.ID, "agenda").text
    assert "Mariana Costa" in pagina and "Joaquim Reis" not in pagina
    assert not driver.find_elements(By.CSS_SELECTOR, "button.confirmar, a.livre, details.cancelar")
    assert driver.find_element(By.CSS_SELECTOR, f"#agendamento-{clinica.a_amanha.pk} a.abrir")
    _captura_inteira(driver, "agenda-dia-dentista")

    # Dark mode: the admin's CSS variables darken the calendar too.
    driver.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": "dark"}]},
    )
    fundo = driver.execute_script(
        "return getComputedStyle(document.querySelector('.periodo')).backgroundColor"
    )
    vermelho, verde, azul = (int(x) for x in fundo[fundo.index("(") + 1 : -1].split(",")[:3])
    assert vermelho + verde + azul < 3 * 80, fundo
    _captura_inteira(driver, "agenda-dia-dentista-escuro")


def test_the_manager_cancels_with_a_reason_and_sees_the_week(live_server, abrir, clinica):
    driver = abrir()
    _entrar(driver, live_server, clinica.gestor)
    navegador.clicar_e_esperar(
        driver, "#proximo", f"#coluna-{clinica.dentista_b.pk}-{clinica.amanha}"
    )
    assert len(driver.find_elements(By.CSS_SELECTOR, "section.coluna")) == 2

    # Cancel: the summary opens the reason's field (a <details>, no script needed).
    seletor = f"#agendamento-{clinica.b_amanha.pk}"
    driver.find_element(By.CSS_SELECTOR, f"{seletor} details.cancelar summary").click()
    campo = driver.find_element(By.CSS_SELECTOR, f"{seletor} input[name=motivo]")
    WebDriverWait(driver, 10).until(lambda d: campo.is_displayed())
    campo.send_keys("Paciente viajou")
    navegador.clicar_e_esperar(driver, f"{seletor} button.cancelar-sim", seletor)
    bloco = driver.find_element(By.CSS_SELECTOR, seletor)
    assert bloco.get_attribute("data-status") == "cancelado" and "Cancelado" in bloco.text
    clinica.b_amanha.refresh_from_db()
    assert clinica.b_amanha.status == Agendamento.Status.CANCELADO
    assert clinica.b_amanha.historico.last().motivo.startswith("Paciente viajou")

    # A 15-minute block is too short for its buttons: pointed at, it grows to show them.
    curto = clinica.agendar(clinica.dentista_b, clinica.paciente_a, as_(clinica.amanha, 14), 15)
    driver.refresh()
    seletor = f"#agendamento-{curto.pk}"
    bloco = navegador.esperar(driver, seletor)
    botao = bloco.find_element(By.CSS_SELECTOR, "button.confirmar")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", bloco)
    ActionChains(driver).move_to_element(bloco).perform()
    WebDriverWait(driver, 10).until(
        lambda d: bloco.size["height"] > 15 * 2 and botao.is_displayed()
    )
    navegador.captura(driver, "agenda-bloco-curto")
    navegador.clicar_e_esperar(driver, f"{seletor} button.confirmar", seletor)
    curto.refresh_from_db()
    assert curto.status == Agendamento.Status.CONFIRMADO

    # The week of one dentist: seven columns, Monday to Sunday.
    Select(driver.find_element(By.ID, "filtro-dentista")).select_by_visible_text("Dra. Alice")
    navegador.clicar_e_esperar(driver, "#filtros button", "#ver-semana")
    navegador.clicar_e_esperar(driver, "#ver-semana", "#ver-dia")
    colunas = driver.find_elements(By.CSS_SELECTOR, "section.coluna")
    assert len(colunas) == 7
    assert {c.get_attribute("data-dentista") for c in colunas} == {str(clinica.dentista_a.pk)}
    assert driver.find_element(By.ID, f"agendamento-{clinica.a_amanha.pk}")
    _captura_inteira(driver, "agenda-semana")


def test_a_staff_user_without_a_role_is_refused(live_server, abrir, clinica):
    driver = abrir()
    _entrar(driver, live_server, clinica.sem_papel, espera="body")
    WebDriverWait(driver, 10).until(lambda d: "/agenda/" in d.current_url)
    assert "403" in driver.find_element(By.TAG_NAME, "body").text
    assert not driver.find_elements(By.ID, "agenda")
