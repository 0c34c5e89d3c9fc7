"""Token login: rate limit and lockout per client address, reset and log on success."""

import logging
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from axes.models import AccessAttempt, AccessLog
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory, override_settings
from rest_framework.test import APIClient

from apps.contas.limites import LimiteDeLogin

pytestmark = pytest.mark.django_db

SENHA = "s3nha-l0nga"
PROXY = "10.0.0.2"
AGORA = datetime(2026, 12, 2, 23, 50, tzinfo=ZoneInfo("America/Sao_Paulo"))


@pytest.fixture(autouse=True)
def relogio_parado():
    """Every try of a test falls in one window of the rate limit (it is a fixed window)."""
    with time_machine.travel(AGORA, tick=False):
        yield


@pytest.fixture
def gestor():
    return get_user_model().objects.create_superuser("gestor", password=SENHA)


def _entrar(usuario: str, senha: str, **meta):
    return APIClient().post(
        "/api/auth/token/", {"username": usuario, "password": senha}, format="json", **meta
    )


def test_a_login_answers_a_token_and_its_expiry_and_the_token_authenticates(gestor):
    resposta = _entrar("gestor", SENHA)
    assert resposta.status_code == 200, resposta.data
    assert set(resposta.data) == {"token", "expiry"}
    cliente = APIClient()
    cliente.credentials(HTTP_AUTHORIZATION=f"Token {resposta.data['token']}")
    assert cliente.get("/api/pacientes/").status_code == 200


def test_the_eleventh_attempt_in_a_minute_from_one_address_is_refused():
    codigos = [_entrar(f"u{i}", "x").status_code for i in range(11)]
    # API_LOGIN_RATE defaults to 10/min per client address; wrong ones count.
    assert codigos == [400] * 10 + [429]


def test_a_forged_forwarded_for_header_does_not_escape_the_rate_limit():
    # 30 user names, a new fake X-Forwarded-For each time, one real address.
    codigos = [
        _entrar(f"u{i}", "x", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").status_code for i in range(30)
    ]
    assert codigos.count(400) == 10
    assert codigos.count(429) == 20


@override_settings(PROXIES_CONFIAVEIS=1)
def test_behind_a_proxy_each_client_has_its_own_rate_limit():
    def por(cliente: str, i: int) -> int:
        return _entrar(f"u{i}", "x", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=cliente).status_code

    assert [por("203.0.113.1", i) for i in range(11)] == [400] * 10 + [429]
    # Another client behind the same proxy is not limited by the first one's tries.
    assert por("203.0.113.2", 99) == 400


@override_settings(PROXIES_CONFIAVEIS=1)
def test_behind_a_proxy_five_wrong_passwords_lock_out_only_that_client(gestor):
    atacante = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.66"}
    clinica = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.10"}
    # The fifth wrong password locks out (429), as on the admin's page.
    assert [_entrar("gestor", "errada", **atacante).status_code for _ in range(5)] == [400] * 4 + [
        429
    ]
    # The attacker's address is locked out, even with the right password ...
    assert "token" not in _entrar("gestor", SENHA, **atacante).json()
    # ... the clinic's is not.
    assert _entrar("gestor", SENHA, **clinica).status_code == 200
    assert AccessAttempt.objects.get(username="gestor").ip_address == "203.0.113.66"


def test_without_trusted_proxies_a_forged_header_does_not_dodge_the_lockout(gestor):
    codigos = [
        _entrar("gestor", "errada", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").status_code
        for i in range(5)
    ]
    assert codigos == [400] * 4 + [429]
    assert "token" not in _entrar("gestor", SENHA).json()


def test_a_repeated_failed_login_locks_the_account_out_for_a_while(gestor):
    assert [_entrar("gestor", "errada").status_code for _ in range(5)] == [400] * 4 + [429]
    # Even the right password is refused now (django-axes lockout), and the
    # person is told so in pt-BR (it was the usual 400 "credentials" answer).
    certo = _entrar("gestor", SENHA)
    assert certo.status_code == 429
    assert certo.json()["code"] == "bloqueado"
    assert "bloqueado" in certo.json()["detail"] and "15 minutos" in certo.json()["detail"]
    assert "token" not in certo.json()


@override_settings(API_LOGIN_RATE="100/min")
def test_a_successful_login_resets_the_failures_and_is_recorded_in_the_access_log(gestor):
    for _ in range(2):
        for _ in range(4):
            assert _entrar("gestor", "errada").status_code == 400
        # Eight failures in all, but never five since the last success: no lockout.
        assert _entrar("gestor", SENHA).status_code == 200
        assert not AccessAttempt.objects.filter(username="gestor").exists()
    registros = AccessLog.objects.filter(username="gestor", ip_address="127.0.0.1")
    assert registros.count() == 2
    assert registros.first().path_info == "/api/auth/token/"


def test_the_rate_limit_holds_under_parallel_requests():
    # 40 threads ask at the same instant; the counter is Redis's INCR, so exactly
    # the rate passes (DRF's read-then-write history let up to 70% more through).
    limite = LimiteDeLogin()
    pedido = RequestFactory().post("/api/auth/token/", REMOTE_ADDR="192.0.2.40")
    largada = threading.Barrier(40)
    respostas: list[bool] = []

    def tentar():
        largada.wait()
        respostas.append(LimiteDeLogin().allow_request(pedido, None))

    fios = [threading.Thread(target=tentar) for _ in range(40)]
    for fio in fios:
        fio.start()
    for fio in fios:
        fio.join()
    assert respostas.count(True) == 10
    assert respostas.count(False) == 30
    assert not limite.allow_request(pedido, None)


def test_with_the_cache_down_logins_are_not_rate_limited_but_still_locked_out(gestor, caplog):
    fora = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "unix:///nonexistent/nexkodonto-redis.sock",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    with override_settings(CACHES=fora), caplog.at_level(logging.WARNING, "apps.contas"):
        codigos = [_entrar(f"u{i}", "x").status_code for i in range(12)]
        assert codigos == [400] * 12  # fail open: nothing answers 429 or 500
        assert "login rate limit not applied" in caplog.text
        for _ in range(5):
            _entrar("gestor", "errada")
        assert "token" not in _entrar("gestor", SENHA).json()  # django-axes, in the database


@pytest.mark.parametrize("pagina", ["/admin/login/", "/api/auth/login/"])
def test_the_session_login_pages_share_the_token_logins_rate_limit(pagina):
    # Found by the break-it review: 30 user names on each page from one address, none refused.
    navegador = Client()
    codigos = [
        navegador.post(pagina, {"username": f"u{i}", "password": "x"}).status_code
        for i in range(10)
    ]
    assert codigos == [200] * 10  # the form again, "wrong user or password"
    decimo_primeiro = navegador.post(pagina, {"username": "u10", "password": "x"})
    assert decimo_primeiro.status_code == 429
    assert "Tentativas" in decimo_primeiro.content.decode()
    assert int(decimo_primeiro["Retry-After"]) > 0
    # One counter per address for every door: the token login is refused too.
    assert _entrar("u11", "x").status_code == 429


def test_a_locked_out_page_login_is_told_so_in_pt_br(gestor):
    navegador = Client()
    for _ in range(5):
        navegador.post("/admin/login/", {"username": "gestor", "password": "errada"})
    bloqueado = navegador.post("/admin/login/", {"username": "gestor", "password": SENHA})
    assert bloqueado.status_code == 429
    texto = bloqueado.content.decode()
    assert "bloqueado" in texto and "Account locked" not in texto
