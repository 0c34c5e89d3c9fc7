"""A real browser for the page's tests: Debian's chromium + chromedriver through selenium.

On a laptop without chromium the browser tests skip, saying how to install
it; with ``CI`` set in the environment a missing browser is a failure (a
skipped browser test in CI hides a broken page). ``.ci/run`` installs both
packages when ``/usr/bin/chromedriver`` is missing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings

CHROMEDRIVER = Path("/usr/bin/chromedriver")
# Phone-sized window (an iPhone 12-14's CSS pixels); the page must also read at 360 px.
LARGURA, ALTURA = 390, 844
ARTEFATOS = Path(settings.BASE_DIR) / "artefatos"


def chromium() -> str | None:
    """The browser's executable, or None."""
    for nome in ("chromium", "chromium-browser", "google-chrome"):
        if caminho := shutil.which(nome):
            return caminho
    return None


def exigir_navegador() -> None:
    """Skip (laptop) or fail (``CI`` set) when chromium or chromedriver is missing."""
    if CHROMEDRIVER.exists() and chromium():
        return
    motivo = (
        "chromium and chromium-driver are not installed "
        "(apt-get install -y chromium chromium-driver); the confirmation page's browser tests "
        "need them"
    )
    if os.environ.get("CI"):
        pytest.fail(f"CI is set: {motivo}", pytrace=False)
    pytest.skip(motivo)


def abrir(*, javascript: bool = True, largura: int = LARGURA, altura: int = ALTURA):
    """A headless Chrome (selenium ``WebDriver``) with a phone-sized window; quit it after."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opcoes = webdriver.ChromeOptions()
    opcoes.binary_location = chromium()
    for argumento in (
        "--headless=new",
        "--no-sandbox",  # root in a container
        "--disable-dev-shm-usage",  # small /dev/shm in containers
        "--lang=pt-BR",
    ):
        opcoes.add_argument(argumento)
    if not javascript:
        opcoes.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2}
        )
    # The driver's path explicitly: without it Selenium Manager tries to download one.
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opcoes)
    driver.set_page_load_timeout(30)
    # A desktop window cannot be narrower than about 500 px: emulate the phone's
    # screen (CSS pixels; the screenshot is at twice that). Through CDP, not the
    # "mobileEmulation" option, under which chromedriver's clicks never returned.
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": largura, "height": altura, "deviceScaleFactor": 2, "mobile": True},
    )
    return driver


def esperar(driver, seletor: str, *, timeout: float = 10):
    """The element matching the CSS ``seletor``, once the page shows it."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, seletor))
    )


def clicar_e_esperar(driver, botao: str, seletor: str, *, timeout: float = 10):
    """Click ``botao`` (CSS); wait for the next page (the old one goes stale), then ``seletor``."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    elemento = driver.find_element(By.CSS_SELECTOR, botao)
    elemento.click()
    # Mid-navigation chromedriver may answer the staleness probe with "Node with
    # given id does not belong to the document" (an unknown error, not a stale
    # element): that is the old page going away, so ask again.
    WebDriverWait(driver, timeout, ignored_exceptions=(WebDriverException,)).until(
        ec.staleness_of(elemento)
    )
    return esperar(driver, seletor, timeout=timeout)


def captura(driver, nome: str) -> Path:
    """Save a screenshot as ``artefatos/<nome>.png`` (gitignored); print and return its path."""
    ARTEFATOS.mkdir(exist_ok=True)
    caminho = ARTEFATOS / f"{nome}.png"
    assert driver.save_screenshot(str(caminho)), caminho
    print(f"screenshot: {caminho}")
    return caminho
