"""The documented production environment (deploy/producao.env.example) is HTTPS-hard.

Each test runs a real ``manage.py`` subprocess with exactly the variables of
that file, a freshly generated SECRET_KEY, the test session's database and a
temporary NEXKODONTO_VAR_DIR (the file's /var/lib/... is not writable here).
"""

import json
import secrets
import subprocess
import sys

import pytest
from django.test import override_settings

from apps.contas.rede import ip_do_cliente

from .support import BASE_DIR, database_url_for_tests

# They start manage.py and bash, which read the machine's clock (root conftest.py).
pytestmark = pytest.mark.celery_real

ARQUIVO = BASE_DIR / "deploy" / "producao.env.example"

# Each hardening line of the file and the deploy check that fires without it.
LINHAS_VERIFICADAS = {
    "SECURE_SSL_REDIRECT": "security.W008",
    "SECURE_HSTS_SECONDS": "security.W004",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "security.W005",
    "SECURE_HSTS_PRELOAD": "security.W021",
    "SESSION_COOKIE_SECURE": "security.W012",
    "CSRF_COOKIE_SECURE": "security.W016",
}

# Requests through the whole middleware stack, as the proxy would pass them.
SONDA = """
import json
from django.conf import settings
from django.test import Client
c = Client(HTTP_HOST=settings.ALLOWED_HOSTS[0])
https = {"HTTP_X_FORWARDED_PROTO": "https"}
http_api = c.get("/api/pacientes/")
https_api = c.get("/api/pacientes/", **https)
login = c.get("/api/auth/login/", **https)
csrf = login.cookies.get("csrftoken")
print("SONDA", json.dumps({
    "http_api": [http_api.status_code, http_api.get("Location")],
    "https_api": [https_api.status_code, https_api.get("Strict-Transport-Security")],
    "https_navegavel": c.get("/api/pacientes/?format=api", **https).status_code,
    "http_healthz": c.get("/healthz").status_code,
    "http_health": c.get("/health/pronto").status_code,
    "login": login.status_code,
    "csrf_cookie_secure": bool(csrf and csrf["secure"]),
}))
"""


def _variaveis_do_arquivo() -> dict[str, str]:
    """``VARIABLE=value`` lines of the file (systemd EnvironmentFile / .env format)."""
    variaveis = {}
    for linha in ARQUIVO.read_text().splitlines():
        linha = linha.strip()
        if linha and not linha.startswith("#"):
            nome, _, valor = linha.partition("=")
            variaveis[nome] = valor
    return variaveis


@pytest.fixture
def ambiente(django_db_setup, tmp_path):
    """The file's environment, secrets and paths substituted; nothing else inherited."""
    variaveis = _variaveis_do_arquivo()
    assert variaveis["SECRET_KEY"] and variaveis["DATABASE_URL"]  # the file names them
    variaveis.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL=database_url_for_tests(),
        NEXKODONTO_VAR_DIR=str(tmp_path / "var"),
    )
    return variaveis


def _manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _sondar(env: dict) -> dict:
    """Run SONDA in ``manage.py shell`` with ``env``; its results by name."""
    feito = _manage(env, "shell", "--no-imports", "-c", SONDA)
    assert feito.returncode == 0, feito.stderr
    linha = next(x for x in feito.stdout.splitlines() if x.startswith("SONDA "))
    return json.loads(linha.removeprefix("SONDA "))


def test_check_deploy_is_clean_with_the_documented_production_environment(ambiente):
    feito = _manage(ambiente, "check", "--deploy", "--fail-level", "WARNING")
    assert feito.returncode == 0, feito.stdout + feito.stderr
    assert "no issues" in feito.stdout


@pytest.mark.parametrize(("variavel", "aviso"), sorted(LINHAS_VERIFICADAS.items()))
def test_check_deploy_fails_without_each_hardening_line(ambiente, variavel, aviso):
    del ambiente[variavel]
    feito = _manage(ambiente, "check", "--deploy", "--fail-level", "WARNING")
    assert feito.returncode != 0
    assert aviso in feito.stderr


def test_the_production_environment_redirects_to_https_and_trusts_the_proxy(ambiente):
    sonda = _sondar(ambiente)
    host = ambiente["ALLOWED_HOSTS"].split(",")[0]
    # Plain HTTP is sent to HTTPS; the health probe is not.
    assert sonda["http_api"] == [301, f"https://{host}/api/pacientes/"]
    assert sonda["http_healthz"] == 200
    assert sonda["http_health"] != 301  # future /health/... probes too
    # Through the proxy (X-Forwarded-Proto: https) the API answers, with HSTS.
    assert sonda["https_api"] == [401, "max-age=31536000; includeSubDomains; preload"]
    assert (sonda["login"], sonda["csrf_cookie_secure"]) == (200, True)
    # JSON only: no browsable API in production.
    assert sonda["https_navegavel"] == 404


def test_without_the_proxy_ssl_header_line_https_requests_redirect_forever(ambiente):
    del ambiente["SECURE_PROXY_SSL_HEADER"]
    assert _sondar(ambiente)["https_api"][0] == 301


def test_a_shell_reads_the_file_as_the_test_does():
    # README sources it with `set -a; . file`: no value may need quotes.
    lido = subprocess.run(
        ["bash", "-c", f'set -a; . "{ARQUIVO}"; set +a; env -0'],
        env={},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    ambiente = dict(par.split("=", 1) for par in lido.stdout.split("\0") if par)
    variaveis = _variaveis_do_arquivo()
    assert {nome: ambiente.get(nome) for nome in variaveis} == variaveis


def test_behind_the_documented_proxy_the_client_is_the_forwarded_address_not_the_proxy(rf):
    # Found by the break-it review: the file said TLS ends at a proxy but trusted
    # none, so every client was the proxy (one rate limit and one lockout for all).
    variaveis = _variaveis_do_arquivo()
    assert variaveis["SECURE_PROXY_SSL_HEADER"] == "True"
    pedido = rf.post(
        "/api/auth/token/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7"
    )
    with override_settings(PROXIES_CONFIAVEIS=int(variaveis.get("PROXIES_CONFIAVEIS", "0"))):
        assert ip_do_cliente(pedido) == "203.0.113.7"


@pytest.mark.parametrize(
    "variavel, valor",
    [
        ("SAUDE_TIMEOUT_SEGUNDOS", "abc"),
        ("SAUDE_TIMEOUT_SEGUNDOS", "nan"),
        ("SWEEP_LOCK_TTL", "abc"),
        ("BD_TEMPO_LIMITE_WORKER_SEGUNDOS", "1.5"),
        ("FINALIZACAO_TOLERANCIA_MINUTOS", "dez"),
    ],
)
def test_a_non_numeric_value_is_refused_naming_the_variable(ambiente, variavel, valor):
    # Found by the operator's run: these ended in a bare ValueError traceback
    # ("could not convert string to float: ''" for SAUDE_TIMEOUT_SEGUNDOS=abc)
    # that named neither the variable nor its value.
    feito = _manage({**ambiente, variavel: valor}, "check")
    assert feito.returncode != 0
    ultima = feito.stderr.strip().splitlines()[-1]
    assert ultima.startswith("django.core.exceptions.ImproperlyConfigured: "), ultima
    assert variavel in ultima


@pytest.mark.parametrize(
    "variavel, valor",
    [
        ("SWEEP_LOCK_TTL", "2"),
        # A day: a lost release would block every sweep for that long.
        ("SWEEP_LOCK_TTL", "86400"),
        ("SAUDE_TIMEOUT_SEGUNDOS", "0.001"),
        ("SAUDE_TIMEOUT_SEGUNDOS", "6"),
        # Found by the reminders' hostile review: 0 or less looped the finder's
        # enqueue forever once a full batch (500) was pending.
        ("LEMBRETES_REENFILEIRAR_SEGUNDOS", "0"),
        ("LEMBRETES_REENFILEIRAR_SEGUNDOS", "-300"),
        # ... and made every send fail (non-blocking socket, ValueError).
        ("EMAIL_TIMEOUT", "0"),
        ("EMAIL_TIMEOUT", "-1"),
        ("LEMBRETES_WEBHOOK_TIMEOUT_SEGUNDOS", "-1"),
        ("LEMBRETES_WEBHOOK_TIMEOUT_SEGUNDOS", "0"),
        # ... and dead links in every message, or five doomed webhook attempts each.
        ("SITE_URL", "clinica.example.org"),
        ("SITE_URL", "javascript:alert(1)"),
        ("LEMBRETES_WEBHOOK_URL", "gateway.example.org/sms"),
        ("LEMBRETES_WEBHOOK_URL", "ftp://gateway.example.org/sms"),
    ],
)
def test_an_out_of_range_value_is_refused_naming_the_variable(ambiente, variavel, valor):
    feito = _manage({**ambiente, variavel: valor}, "check")
    assert feito.returncode != 0
    ultima = feito.stderr.strip().splitlines()[-1]
    assert ultima.startswith(f"django.core.exceptions.ImproperlyConfigured: {variavel}"), ultima


@pytest.mark.parametrize(
    "valor", ["garbage", "rabbitmq.clinica.example:5672", "", "http://127.0.0.1:5672/"]
)
def test_a_broker_url_of_no_known_transport_is_refused_at_start_up(ambiente, valor):
    # Found by the operator's run: BROKER_URL=garbage started every process,
    # the worker then retrying forever "Cannot connect to amqp://guest:**@garbage:5672//"
    # (kombu reads a bare word as the host of its default transport, amqp).
    feito = _manage({**ambiente, "BROKER_URL": valor}, "check")
    assert feito.returncode != 0
    ultima = feito.stderr.strip().splitlines()[-1]
    assert ultima.startswith("django.core.exceptions.ImproperlyConfigured: BROKER_URL"), ultima
    assert "SENHA" not in feito.stderr


@pytest.mark.parametrize("valor", ["garbage", "smtp://u:SENHA@h:porta", "http://u:SENHA@h"])
def test_an_email_url_that_is_not_one_is_refused_without_echoing_it(ambiente, valor):
    # Found by the reminders' hostile review: a bad port was a bare ValueError
    # traceback, a bad scheme "Invalid email schema" naming no variable.
    feito = _manage({**ambiente, "EMAIL_URL": valor}, "check")
    assert feito.returncode != 0
    ultima = feito.stderr.strip().splitlines()[-1]
    assert ultima.startswith("django.core.exceptions.ImproperlyConfigured: EMAIL_URL"), ultima
    assert "SENHA" not in feito.stderr


@pytest.mark.parametrize(
    "valor", ["amqp://u:p@127.0.0.1:5672/v", "pyamqp://u:p@h//", "redis://127.0.0.1:6379/3"]
)
def test_a_broker_url_of_a_known_transport_starts(ambiente, valor):
    feito = _manage({**ambiente, "BROKER_URL": valor}, "check")
    assert feito.returncode == 0, feito.stderr


@pytest.mark.parametrize(
    "host, port, esperado",
    [
        (None, None, "http://127.0.0.1:8000"),
        ("127.0.0.1", "8110", "http://127.0.0.1:8110"),
        ("0.0.0.0", "8200", "http://127.0.0.1:8200"),
        ("192.168.0.10", "8000", "http://192.168.0.10:8000"),
    ],
)
def test_without_site_url_the_links_point_where_make_run_serves(ambiente, host, port, esperado):
    # Found by the operator's run: under `PORT=8110 make run` every reminder's
    # link said http://127.0.0.1:8000/confirmar/..., where nothing answered.
    env = {k: v for k, v in ambiente.items() if k not in ("SITE_URL", "HOST", "PORT")}
    env.update({k: v for k, v in (("HOST", host), ("PORT", port)) if v is not None})
    feito = _manage(
        env,
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.SITE_URL)",
    )
    assert feito.returncode == 0, feito.stderr
    assert feito.stdout.strip().splitlines()[-1] == esperado
