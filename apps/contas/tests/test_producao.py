"""The README's production steps, literally, on an empty database (issue 9, item 4).

``manage.py migrate``, ``manage.py createsuperuser --noinput``, ``gunicorn
core.wsgi`` (two workers): a token login and a booking must work, with nothing
else run first (no createcachetable, no launcher). Then the login rate limit
and the lockout through a real reverse proxy in front of those workers. Real
processes, so ``celery_real``; on PostgreSQL (CI's first pass) the database is
a new, empty PostgreSQL database, on the embedded defaults a new SQLite file.
"""

from __future__ import annotations

import http.client
import http.server
import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest
from django.db import connection

from apps.clinic.tests.support import BIN, Proc, manage, porta_livre, process_env, wait_until

pytestmark = pytest.mark.celery_real

SENHA = "s3nha-de-producao-1"
# A fixed weekday morning years ahead: bookable whatever the real clock says.
INICIO = "2031-03-11T09:00:00-03:00"


def _pedir(porta, metodo, caminho, corpo=None, *, token=None, origem="127.0.0.1", xff=None):
    """One HTTP request from the address ``origem`` (any 127.x works on Linux): (status, JSON)."""
    conexao = http.client.HTTPConnection("127.0.0.1", porta, timeout=30, source_address=(origem, 0))
    cabecalhos = {"Content-Type": "application/json"}
    if token:
        cabecalhos["Authorization"] = f"Token {token}"
    if xff:
        cabecalhos["X-Forwarded-For"] = xff
    try:
        conexao.request(metodo, caminho, body=json.dumps(corpo or {}), headers=cabecalhos)
        resposta = conexao.getresponse()
        dados = resposta.read()
    finally:
        conexao.close()
    return resposta.status, (json.loads(dados) if dados else None)


class _Proxy(http.server.BaseHTTPRequestHandler):
    """A reverse proxy as nginx's ``proxy_add_x_forwarded_for``: appends the peer's address."""

    def do_GET(self):
        self._repassar()

    def do_POST(self):
        self._repassar()

    def _repassar(self):
        corpo = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        cabecalhos = {
            k: v
            for k, v in self.headers.items()
            if k.lower() not in ("host", "connection", "content-length", "x-forwarded-for")
        }
        anterior = self.headers.get("X-Forwarded-For")
        par = self.client_address[0]
        cabecalhos["X-Forwarded-For"] = f"{anterior}, {par}" if anterior else par
        destino = http.client.HTTPConnection("127.0.0.1", self.server.porta_destino, timeout=30)
        destino.request(self.command, self.path, body=corpo, headers=cabecalhos)
        resposta = destino.getresponse()
        dados = resposta.read()
        destino.close()
        self.send_response(resposta.status)
        self.send_header("Content-Type", resposta.getheader("Content-Type") or "text/plain")
        self.send_header("Content-Length", str(len(dados)))
        self.end_headers()
        self.wfile.write(dados)

    def log_message(self, *args):  # the test's output stays readable
        pass


class _ServidorProxy(http.server.ThreadingHTTPServer):
    request_queue_size = 128  # 40 clients connect at once (the default backlog is 5)


def _banco_vazio():
    """A new empty database like the session's: (DATABASE_URL, drop callback)."""
    s = connection.settings_dict
    nome = f"nxk_producao_{uuid.uuid4().hex[:10]}"
    if connection.vendor != "postgresql":
        return f"sqlite:///{s['NAME']}.{nome}", lambda: None
    import psycopg

    params = {
        "host": s.get("HOST") or "localhost",
        "port": s.get("PORT") or 5432,
        "user": s.get("USER") or None,
        "password": s.get("PASSWORD") or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**params) as admin:
        admin.execute(f'CREATE DATABASE "{nome}"')

    def apagar():
        with psycopg.connect(**params) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{nome}" WITH (FORCE)')

    auth = quote(params["user"] or "", safe="")
    if params["password"]:
        auth += ":" + quote(params["password"], safe="")
    return f"postgres://{auth}@{params['host']}:{params['port']}/{nome}", apagar


@pytest.fixture(scope="module")
def site(redis_contas, tmp_path_factory):
    """migrate + createsuperuser + gunicorn (2 workers) on an empty database, a proxy in front."""
    pasta = tmp_path_factory.mktemp("producao")
    url, apagar = _banco_vazio()
    env = process_env(
        redis_url=redis_contas,
        database_url=url,
        NEXKODONTO_VAR_DIR=str(pasta / "var"),
        CACHE_KEY_PREFIX=f"nxk-producao-{uuid.uuid4().hex}",
        # The limit's window is fixed and these processes keep the real clock:
        # a minute-long window could end in the middle of a burst (CI saw 18 of
        # 40 pass, two windows' worth). A day-long one makes that a 1-in-40,000 event.
        API_LOGIN_RATE="10/day",
        PROXIES_CONFIAVEIS="1",  # the proxy below
        DJANGO_SUPERUSER_USERNAME="admin",
        DJANGO_SUPERUSER_PASSWORD=SENHA,
        DJANGO_SUPERUSER_EMAIL="admin@clinica.invalid",
    )
    web = proxy = None
    try:
        manage("migrate", "--noinput", env=env, timeout=300)
        manage("createsuperuser", "--noinput", env=env)
        porta = porta_livre()
        web = Proc(
            "gunicorn",
            [str(BIN / "gunicorn"), "core.wsgi", "--bind", f"127.0.0.1:{porta}"]
            + ["--workers", "2", "--no-control-socket"],
            env,
            pasta,
        )

        def responde():
            try:
                return _pedir(porta, "GET", "/healthz")[0] == 200
            except OSError:
                return False

        wait_until(responde, timeout=60, what="gunicorn to answer /healthz")
        proxy = _ServidorProxy(("127.0.0.1", 0), _Proxy)
        proxy.porta_destino = porta
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
        yield {"porta": porta, "proxy": proxy.server_address[1], "web": web}
    finally:
        if proxy is not None:
            proxy.shutdown()
        if web is not None:
            web.stop(timeout=20)  # SIGTERM, then SIGKILL of the group
        apagar()


def test_after_migrate_alone_gunicorn_serves_a_token_login_and_a_booking(site):
    porta = site["proxy"]
    status, corpo = _pedir(
        porta, "POST", "/api/auth/token/", {"username": "admin", "password": SENHA}
    )
    assert status == 200, corpo
    token = corpo["token"]

    status, dentista = _pedir(
        porta, "POST", "/api/dentistas/", {"nome": "Dra. Produção", "cro": "CRO-SP 1"}, token=token
    )
    assert status == 201, dentista
    status, paciente = _pedir(porta, "POST", "/api/pacientes/", {"nome": "P. Teste"}, token=token)
    assert status == 201, paciente
    status, agendamento = _pedir(
        porta,
        "POST",
        "/api/agendamentos/",
        {"paciente": paciente["id"], "dentista": dentista["id"], "data_hora": INICIO},
        token=token,
    )
    assert status == 201, agendamento
    assert "Traceback" not in site["web"].output()


def test_through_the_proxy_40_parallel_tries_from_one_client_pass_the_rate_limit_only_10_times(
    site,
):
    # Two gunicorn workers, one client (127.0.0.4) that also forges X-Forwarded-For.
    def tentar(i: int) -> int:
        corpo = {"username": f"ninguem{i}", "password": "x"}
        origem, xff = "127.0.0.4", f"198.51.100.{i}"
        return _pedir(site["proxy"], "POST", "/api/auth/token/", corpo, origem=origem, xff=xff)[0]

    with ThreadPoolExecutor(40) as fios:
        codigos = list(fios.map(tentar, range(40)))
    assert codigos.count(400) == 10, codigos  # API_LOGIN_RATE: 10 a window
    assert codigos.count(429) == 30, codigos


def test_through_the_proxy_a_lockout_stops_only_the_client_that_guessed(site):
    def entrar(senha: str, origem: str) -> int:
        corpo = {"username": "admin", "password": senha}
        return _pedir(site["proxy"], "POST", "/api/auth/token/", corpo, origem=origem)[0]

    # The fifth wrong password locks that client out (429, pt-BR) ...
    assert [entrar("errada", "127.0.0.5") for _ in range(5)] == [400] * 4 + [429]
    assert entrar(SENHA, "127.0.0.5") == 429  # ... even with the right password
    assert entrar(SENHA, "127.0.0.6") == 200  # the clinic's desk, behind the same proxy
