"""End to end: no patient's data in any log line of web, worker and beat (issue 10, item 4).

Runs the stack as an operator would, on a new empty database with the demo
data (``manage.py migrate`` + ``manage.py demo``): gunicorn (gunicorn.conf.py),
a Celery worker and Celery Beat, each with ``LOG_FORMAT=json``,
``LOG_LEVEL=DEBUG`` and Django's ``DEBUG=True`` (SQL logging on, to prove it
is capped), against a Redis of the test's own. Drives the API through every
transition with patients' data in every field, lets the worker (on save) and
the sweep (Beat, every 2 s) close appointments, then reads every line of every
process: each is a JSON object with the expected keys, and none holds a
patient's name, CPF, phone, e-mail, or any diagnosis, treatment, observation
or reason text.
"""

from __future__ import annotations

import http.client
import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import holidays
import pytest
from django.conf import settings

from .support import BIN, Proc, manage, porta_livre, process_env, wait_until
from .test_falhas import RedisProprio

pytestmark = pytest.mark.celery_real

# A patient whose every field is personal data, and free texts that must never be logged.
NOME = "Marieta Sigilosa Quixabeira"
CPF = "529.982.247-25"
TELEFONE = "(27) 99876-5432"
EMAIL = "marieta.sigilosa@exemplo.com.br"
OBSERVACOES = "Paciente relata dor aguda no dente 46 após queda"
DIAGNOSTICO = "Pulpite irreversível sintomática no 36"
TRATAMENTO = "Pulpectomia e curativo com hidróxido de cálcio"
MOTIVO_CANCELAMENTO = "Viagem imprevista para Guarapari"
MOTIVO_REABERTURA = "Fechamento automático indevido, paciente compareceu"
# What manage.py demo writes (apps/clinic/management/commands/demo.py).
DEMO = [
    "Paciente Demo 1",
    "Paciente Demo 2",
    "Paciente Demo 3",
    "Limpeza e profilaxia",
    "Restauração em resina, dente 36",
    "Avaliação inicial",
]
CHAVES = {"time", "level", "logger", "process", "message"}
# Lines Celery prints itself, outside logging (celery/apps/worker.py, safe_say).
FORA_DO_LOGGING = re.compile(r"^worker: (Warm|Cold) shutdown \(MainProcess\)$")


def _proibidos() -> list[str]:
    """Every text that must not appear in a log line, in each form it could take there."""
    textos = [NOME, *NOME.split()[1:], CPF, TELEFONE, EMAIL, OBSERVACOES, DIAGNOSTICO]
    textos += [TRATAMENTO, MOTIVO_CANCELAMENTO, MOTIVO_REABERTURA, *DEMO]
    textos += [re.sub(r"\D", "", CPF), re.sub(r"\D", "", TELEFONE), EMAIL.split("@")[0]]
    formas = set()
    for texto in textos:
        formas |= {texto.lower(), json.dumps(texto)[1:-1].lower()}
    return sorted(formas)


class Api:
    """HTTP/1.1 JSON client of the gunicorn under test."""

    def __init__(self, porta: int) -> None:
        self.porta = porta
        self.token: str | None = None

    def pedir(self, metodo: str, caminho: str, corpo=None, *, cabecalhos=None, esperado=None):
        conexao = http.client.HTTPConnection("127.0.0.1", self.porta, timeout=30)
        todos = {"Content-Type": "application/json", **(cabecalhos or {})}
        if self.token:
            todos["Authorization"] = f"Token {self.token}"
        try:
            conexao.request(
                metodo, caminho, body=None if corpo is None else json.dumps(corpo), headers=todos
            )
            resposta = conexao.getresponse()
            dados = resposta.read()
        finally:
            conexao.close()
        corpo_resposta = json.loads(dados) if dados and dados[:1] in b"{[" else dados
        if esperado is not None:
            assert resposta.status == esperado, (metodo, caminho, resposta.status, corpo_resposta)
        return resposta, corpo_resposta


def _login(porta: int, usuario: str, senha: str) -> Api:
    api = Api(porta)
    _, corpo = api.pedir(
        "POST", "/api/auth/token/", {"username": usuario, "password": senha}, esperado=200
    )
    api.token = corpo["token"]
    return api


def _banco_novo():
    from apps.contas.tests.test_producao import _banco_vazio

    return _banco_vazio()


@pytest.fixture
def stack(tmp_path):
    """migrate + demo on a new database, then gunicorn, worker and beat, all logging JSON."""
    redis = RedisProprio()
    redis.iniciar()
    url, apagar = _banco_novo()
    env = process_env(
        redis_url=redis.url,
        database_url=url,
        NEXKODONTO_VAR_DIR=str(tmp_path / "var"),
        LOG_FORMAT="json",
        LOG_LEVEL="DEBUG",
        DEBUG="True",
        FINALIZACAO_INTERVALO_SEGUNDOS="2",
        CACHE_KEY_PREFIX=f"nxk-logs-{uuid.uuid4().hex}",
    )
    procs: dict[str, Proc] = {}
    try:
        preparo = [manage("migrate", "--noinput", env=env, timeout=300), manage("demo", env=env)]
        senha = (tmp_path / "var" / "demo_credenciais.txt").read_text().split()[3]
        porta = porta_livre()
        procs["web"] = Proc(
            "web",
            [str(BIN / "gunicorn"), "core.wsgi", "--bind", f"127.0.0.1:{porta}"]
            + ["--workers", "2", "--no-control-socket"],
            env,
            tmp_path,
        )
        # -q: no banner (it is printed, not logged); the operator's JSON stream stays JSON.
        procs["worker"] = Proc(
            "worker",
            [str(BIN / "celery"), "-q", "-A", "core", "worker", "--concurrency", "2"]
            + ["--without-mingle", "--without-gossip", "--hostname", "logs@%h"],
            env,
            tmp_path,
        )
        procs["beat"] = Proc(
            "beat", [str(BIN / "celery"), "-q", "-A", "core", "beat"], env, tmp_path
        )
        procs["worker"].wait_for_output(" ready.", timeout=60)

        def responde():
            try:
                return Api(porta).pedir("GET", "/healthz")[0].status == 200
            except OSError:
                return False

        wait_until(responde, timeout=60, what="gunicorn to answer /healthz")
        yield {"porta": porta, "senha": senha, "procs": procs, "preparo": preparo}
    finally:
        for proc in procs.values():
            proc.stop(timeout=30)
        apagar()
        redis.parar()


def _linhas(texto: str) -> list[str]:
    return [linha for linha in texto.splitlines() if linha.strip()]


def test_no_log_line_of_web_worker_or_beat_holds_a_patients_data(stack):
    porta, senha = stack["porta"], stack["senha"]
    recepcao = _login(porta, "recepcao", senha)
    dentista = _login(porta, "dentista", senha)
    demo = _login(porta, "demo", senha)  # superuser: may book in the past

    # A patient with every personal field, then the same CPF again and a bad
    # e-mail: 400s whose bodies hold the patient's data.
    paciente = {
        "nome": NOME,
        "cpf": CPF,
        "telefone": TELEFONE,
        "email": EMAIL,
        "data_nascimento": "1984-07-09",
    }
    _, p = recepcao.pedir("POST", "/api/pacientes/", paciente, esperado=201)
    recepcao.pedir("POST", "/api/pacientes/", paciente, esperado=400)
    recepcao.pedir("POST", "/api/pacientes/", {**paciente, "cpf": "", "email": NOME}, esperado=400)
    # Searches by name and CPF (query strings), a patient's page, a missing one.
    recepcao.pedir("GET", "/api/pacientes/?search=" + NOME.replace(" ", "+"), esperado=200)
    recepcao.pedir("GET", "/api/pacientes/?search=" + CPF, esperado=200)
    recepcao.pedir("GET", f"/api/pacientes/{p['id']}/", esperado=200)
    recepcao.pedir("GET", "/api/pacientes/999999/", esperado=404)
    recepcao.pedir("PATCH", f"/api/pacientes/{p['id']}/", {"email": "x"}, esperado=400)

    # Book, confirm, reschedule, cancel (with a reason), then a transition that
    # is refused (409) with free text in the body.
    # A working day of the demo dentist's plan (Monday to Friday, not a holiday):
    # this test keeps the machine's clock, so the date is whatever a month from now is.
    dia = (datetime.now(UTC) + timedelta(days=30)).date()
    fechados = holidays.country_holidays(
        "BR", subdiv=settings.CLINICA_UF or None, years=[dia.year, dia.year + 1]
    )
    while dia.weekday() >= 5 or dia in fechados:
        dia += timedelta(days=1)
    amanha = dia.isoformat()
    _, a = recepcao.pedir(
        "POST",
        "/api/agendamentos/",
        {
            "paciente": p["id"],
            "dentista": 1,
            "data_hora": f"{amanha}T09:00:00-03:00",
            "duracao_minutos": 30,
            "observacoes": OBSERVACOES,
        },
        esperado=201,
    )
    recepcao.pedir("POST", f"/api/agendamentos/{a['id']}/confirmar/", esperado=200)
    recepcao.pedir(
        "PATCH",
        f"/api/agendamentos/{a['id']}/",
        {"data_hora": f"{amanha}T10:00:00-03:00", "observacoes": OBSERVACOES + "!"},
        esperado=200,
    )
    recepcao.pedir(
        "POST",
        f"/api/agendamentos/{a['id']}/cancelar/",
        {"motivo": MOTIVO_CANCELAMENTO},
        esperado=200,
    )
    recepcao.pedir(
        "POST",
        f"/api/agendamentos/{a['id']}/cancelar/",
        {"motivo": MOTIVO_CANCELAMENTO},
        esperado=409,
    )
    recepcao.pedir(
        "POST",
        "/api/agendamentos/",
        {"paciente": p["id"], "dentista": 1, "data_hora": NOME, "observacoes": OBSERVACOES},
        esperado=400,
    )

    # The demo's three past appointments were closed by the worker as it
    # started (their messages were queued by `manage.py demo`).
    def fechados_pelo_worker():
        _, corpo = dentista.pedir("GET", "/api/atendimentos/?origem=automatico", esperado=200)
        return {r["agendamento"] for r in corpo["results"]} >= {1, 2, 3}

    wait_until(fechados_pelo_worker, timeout=30, what="the worker to close the demo's past ones")
    # Reopen two: one becomes a no-show, the other is closed by hand with a diagnosis.
    for pk in (2, 3):
        dentista.pedir(
            "POST", f"/api/agendamentos/{pk}/reabrir/", {"motivo": MOTIVO_REABERTURA}, esperado=200
        )
    recepcao.pedir("POST", "/api/agendamentos/2/marcar-falta/", esperado=200)
    dentista.pedir(
        "POST",
        "/api/agendamentos/3/finalizar/",
        {"diagnostico": DIAGNOSTICO, "tratamento_realizado": TRATAMENTO},
        esperado=201,
    )
    dentista.pedir(
        "POST",
        "/api/agendamentos/3/finalizar/",
        {"diagnostico": DIAGNOSTICO, "tratamento_realizado": TRATAMENTO},
        esperado=409,
    )
    dentista.pedir("GET", "/api/agendamentos/3/historico/", esperado=200)

    # Closed by the worker on save: booked already over (the superuser may).
    agora = datetime.now(UTC).replace(microsecond=0)
    reserva, pelo_worker = demo.pedir(
        "POST",
        "/api/agendamentos/",
        {
            "paciente": p["id"],
            "dentista": 1,
            "data_hora": (agora - timedelta(hours=3)).isoformat(),
            "duracao_minutos": 30,
            "observacoes": OBSERVACOES,
            "fora_do_expediente": True,  # the hour is the clock's, not the plan's
        },
        esperado=201,
    )
    # Closed by the sweep: in progress when saved (no task), over 3 s later.
    _, pela_varredura = demo.pedir(
        "POST",
        "/api/agendamentos/",
        {
            "paciente": p["id"],
            "dentista": 1,
            "data_hora": (agora - timedelta(minutes=5) + timedelta(seconds=3)).isoformat(),
            "duracao_minutos": 5,
            "observacoes": OBSERVACOES + " (varredura)",
            "fora_do_expediente": True,  # the hour is the clock's, not the plan's
        },
        esperado=201,
    )

    def concluido(pk):
        return (
            demo.pedir("GET", f"/api/agendamentos/{pk}/", esperado=200)[1]["status"] == "concluido"
        )

    wait_until(lambda: concluido(pelo_worker["id"]), timeout=30, what="the on-save close")
    wait_until(lambda: concluido(pela_varredura["id"]), timeout=30, what="the sweep's close")

    # A request id: a valid incoming one is kept and returned, a bad one replaced.
    proprio = uuid.uuid4().hex
    resposta, _ = recepcao.pedir("GET", "/api/pacientes/", cabecalhos={"X-Request-ID": proprio})
    assert resposta.getheader("X-Request-ID") == proprio
    resposta, _ = recepcao.pedir("GET", "/api/pacientes/", cabecalhos={"X-Request-ID": NOME})
    trocado = resposta.getheader("X-Request-ID")
    assert re.fullmatch(r"[0-9a-f]{32}", trocado)
    for api in (recepcao, dentista, demo):
        api.pedir("POST", "/api/auth/logout/", esperado=204)
    recepcao.pedir("GET", "/api/pacientes/", esperado=401)  # revoked token

    procs = stack["procs"]
    wait_until(
        lambda: "sweep closed" in procs["worker"].output(), timeout=10, what="the sweep's log"
    )
    for proc in procs.values():
        proc.stop(timeout=30)

    # Every line of every process, and the set-up commands' output.
    saidas = {nome: proc.output() for nome, proc in procs.items()}
    for i, feito in enumerate(stack["preparo"]):
        saidas[f"manage-{i}"] = feito.stdout + feito.stderr
    proibidos = _proibidos()
    for nome, texto in saidas.items():
        for linha in _linhas(texto):
            minuscula = linha.lower()
            vazou = [p for p in proibidos if p in minuscula]
            assert not vazou, f"{nome} logged {vazou}: {linha}"

    registros: dict[str, list[dict]] = {}
    for nome in ("web", "worker", "beat"):
        registros[nome] = []
        for linha in _linhas(saidas[nome]):
            if FORA_DO_LOGGING.match(linha):
                continue
            try:
                registro = json.loads(linha)
            except ValueError:
                pytest.fail(f"{nome}: not a JSON line: {linha!r}")
            assert CHAVES <= registro.keys(), (nome, registro)
            # One zone for every process: TIME_ZONE (São Paulo, -03:00), ISO 8601.
            assert datetime.fromisoformat(registro["time"]).utcoffset() == timedelta(hours=-3)
            registros[nome].append(registro)
    todos = [r for lista in registros.values() for r in lista]
    assert not any(r["logger"].startswith("django.db.backends") for r in todos)  # no SQL
    assert any(r["level"] == "DEBUG" for r in todos)  # DEBUG was on: the cap did the work

    # Request lines: every access line and every django.request line has a request id.
    acessos = [r for r in registros["web"] if r["logger"] == "gunicorn.access"]
    assert len(acessos) >= 25
    for r in acessos:
        assert re.fullmatch(r"[0-9a-f]{32}", r["request_id"]), r
        assert {"method", "path", "status", "duration_ms"} <= r.keys(), r
        assert "?" not in r["path"] and "?" not in r["message"]
    assert any(r["request_id"] == proprio for r in acessos)
    assert any(r["request_id"] == trocado for r in acessos)
    avisos = [r for r in registros["web"] if r["logger"] == "django.request"]
    assert {r["status_code"] for r in avisos} >= {400, 401, 404, 409}
    assert all(re.fullmatch(r"[0-9a-f]{32}", r["request_id"]) for r in avisos)

    # Task lines: the clinic's own and Celery's about a task carry its name and id,
    # the on-save close also its appointment.
    tarefas = [
        r
        for r in registros["worker"]
        if r["logger"].startswith(("apps.", "core.", "celery.app.trace", "celery.worker.strategy"))
        # The worker's start-up line about its database sessions is no task's.
        and r["logger"] != "core.db_timeouts"
    ]
    assert tarefas
    for r in tarefas:
        assert r.get("task_name", "").startswith("apps.clinic.tasks."), r
        assert re.fullmatch(r"[0-9a-f-]{36}", r["task_id"]), r
    de_um = [r for r in tarefas if r["task_name"].endswith("processar_agendamento_especifico")]
    assert any(r.get("agendamento_id") == pelo_worker["id"] for r in de_um)
    # ... and the id of the request that booked it, which published the task.
    reserva_id = reserva.getheader("X-Request-ID")
    assert any(
        r.get("request_id") == reserva_id
        for r in de_um
        if r.get("agendamento_id") == pelo_worker["id"]
    )
    assert all("agendamento_id" in r for r in de_um if r["logger"] != "celery.worker.strategy")
    varredura = [r for r in tarefas if r["message"].startswith("sweep closed")]
    assert varredura and all(
        r["task_name"].endswith("verificar_e_finalizar_agendamentos_passados") for r in varredura
    )
    assert any("Sending due task" in r["message"] for r in registros["beat"])
