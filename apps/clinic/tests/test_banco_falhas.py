"""Database faults (issue 10, item 1): timeouts, dead connections, locked rows.

- The worker's statements time out before the task's soft limit
  (core/db_timeouts.py), so a task blocked in a query leaves nothing running
  on the server.
- A request whose connection dies mid-request answers 503 with Retry-After
  (core/middleware.py), and nothing half-written stays.
- The on-save task retries a row another transaction holds
  (apps/clinic/tasks.py), instead of leaving it to the next sweep.

The PostgreSQL ones kill backends (``pg_terminate_backend``) and hold locks
from a second connection: they skip on SQLite, where neither exists; CI's
first pass runs them on PostgreSQL. See docs/RELIABILITY.md, "Database faults".
"""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager
from datetime import timedelta

import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import OperationalError, close_old_connections, connection, transaction
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from apps.clinic import services
from apps.clinic.models import Agendamento, Atendimento, HistoricoStatus
from apps.contas.tokens import token_criar

from .factories import DentistaFactory, PacienteFactory
from .support import database_url_for_tests, process_env, wait_until

# The fault tests' own Redis, producer and process starter (real processes).
from .test_falhas import celery_app, processos, redis_proprio  # noqa: F401

UM = "apps.clinic.tasks.processar_agendamento_especifico"
SO_POSTGRESQL = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="pg_terminate_backend, statement_timeout and row locks from a second connection "
    "are PostgreSQL's (CI's first pass runs these)",
)
MENSAGEM_503 = "O banco de dados não respondeu. Tente novamente em alguns segundos."


def _usuario(nome: str, grupo: str, **campos):
    usuario = get_user_model().objects.create_user(nome, **campos)
    usuario.groups.add(Group.objects.get(name=grupo))
    return usuario


def _api(usuario) -> APIClient:
    cliente = APIClient()
    cliente.force_authenticate(usuario)
    return cliente


def _outra_conexao() -> psycopg.Connection:
    """A second session on the test database, outside Django (autocommit)."""
    return psycopg.connect(database_url_for_tests(), autocommit=True)


@contextmanager
def conexao_morta_antes_de(trecho: str, *, depois_de: str = ""):
    """Terminate this thread's backend right before the first statement containing ``trecho``.

    With ``depois_de``: the first such statement after one containing ``depois_de``.

    From a second connection, with ``pg_terminate_backend(pid, 5000)``, which
    waits for the backend to exit: the statement then runs on a dead
    connection, as after a PostgreSQL restart or failover between two
    statements of a request. Yields the list of statements it killed before.
    """
    mortas: list[str] = []
    vistas: list[str] = []

    def matar(execute, sql, params, many, context):
        if not mortas and trecho in sql and (vistas or not depois_de):
            mortas.append(sql)
            pid = context["connection"].connection.info.backend_pid
            with _outra_conexao() as outra:
                assert outra.execute("SELECT pg_terminate_backend(%s, 5000)", [pid]).fetchone()[0]
        if depois_de and depois_de in sql:
            vistas.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(matar):
        yield mortas
    # What Django does when a request ends (request_finished), which the
    # test client leaves out: a connection that failed is closed.
    close_old_connections()


def _assert_503(resposta, *, json_esperado: bool) -> None:
    assert resposta.status_code == 503
    assert resposta["Retry-After"] == "5"
    if json_esperado:
        assert resposta.json() == {"detail": MENSAGEM_503, "code": "banco_indisponivel"}
    else:
        assert resposta["Content-Type"].startswith("text/html")
        texto = resposta.content.decode()
        assert "Serviço indisponível" in texto and MENSAGEM_503 in texto


# --- a connection that dies mid-request: in-process ----------------------------------


@SO_POSTGRESQL
@pytest.mark.django_db(transaction=True)
def test_a_booking_whose_connection_dies_between_its_statements_is_a_503_and_leaves_nothing():
    cliente = _api(_usuario("recepcao-bd", "recepcao"))
    paciente, dentista = PacienteFactory(), DentistaFactory()
    corpo = {
        "paciente": paciente.pk,
        "dentista": dentista.pk,
        "data_hora": (timezone.now() + timedelta(days=2)).isoformat(),
    }

    # The appointment's INSERT ran in the service's transaction; the history's
    # INSERT meets a dead connection.
    with conexao_morta_antes_de('INSERT INTO "clinic_historicostatus"') as mortas:
        resposta = cliente.post("/api/agendamentos/", corpo, format="json")

    assert mortas, "the connection was never killed: nothing was tested"
    _assert_503(resposta, json_esperado=True)
    assert not Agendamento.objects.exists()
    assert not HistoricoStatus.objects.exists()
    # The next request gets a new connection and books.
    assert cliente.post("/api/agendamentos/", corpo, format="json").status_code == 201
    assert Agendamento.objects.count() == HistoricoStatus.objects.count() == 1


@SO_POSTGRESQL
@pytest.mark.django_db(transaction=True)
def test_a_booking_whose_connection_dies_after_the_service_wrote_is_a_503_and_saves_nothing():
    # The view reads the row again for its answer after the service's
    # writes: a 503 there must not leave a booking the client was told failed.
    cliente = _api(_usuario("recepcao-bd2", "recepcao"))
    corpo = {
        "paciente": PacienteFactory().pk,
        "dentista": DentistaFactory().pk,
        "data_hora": (timezone.now() + timedelta(days=2)).isoformat(),
    }

    with conexao_morta_antes_de(
        'FROM "clinic_agendamento"', depois_de='INSERT INTO "clinic_historicostatus"'
    ) as mortas:
        resposta = cliente.post("/api/agendamentos/", corpo, format="json")

    assert mortas
    _assert_503(resposta, json_esperado=True)
    assert not Agendamento.objects.exists()


@SO_POSTGRESQL
@pytest.mark.django_db(transaction=True)
def test_a_confirm_whose_connection_dies_in_its_transaction_is_a_503_and_changes_nothing():
    gestor = _usuario("gestora-bd", "gestor")
    ag = services.agendamento_criar(
        paciente=PacienteFactory(),
        dentista=DentistaFactory(),
        data_hora=timezone.now() + timedelta(days=1),
    )

    # After the row lock and the UPDATE of the status.
    with conexao_morta_antes_de('INSERT INTO "clinic_historicostatus"') as mortas:
        resposta = _api(gestor).post(f"/api/agendamentos/{ag.pk}/confirmar/", format="json")

    assert mortas
    _assert_503(resposta, json_esperado=True)
    ag.refresh_from_db()
    assert ag.status == Agendamento.Status.AGENDADO
    assert list(ag.historico.values_list("status_novo", flat=True)) == ["agendado"]


@SO_POSTGRESQL
@pytest.mark.django_db(transaction=True)
def test_the_admin_answers_a_short_pt_br_503_page_for_a_read_and_for_an_action():
    gestor = _usuario("gestora-admin-bd", "gestor", is_staff=True)
    ag = services.agendamento_criar(
        paciente=PacienteFactory(),
        dentista=DentistaFactory(),
        data_hora=timezone.now() + timedelta(days=1),
    )
    cliente = APIClient()
    cliente.force_login(gestor)
    # Every day: the list opens on today, and the appointment is tomorrow.
    lista = "/admin/clinic/agendamento/?dia=todos"

    with conexao_morta_antes_de('FROM "clinic_agendamento"') as mortas:
        resposta = cliente.get(lista)
    assert mortas
    _assert_503(resposta, json_esperado=False)

    with conexao_morta_antes_de('INSERT INTO "clinic_historicostatus"') as mortas:
        resposta = cliente.post(
            lista, {"action": "confirmar", "_selected_action": [ag.pk]}, follow=False
        )
    assert mortas
    _assert_503(resposta, json_esperado=False)
    ag.refresh_from_db()
    assert ag.status == Agendamento.Status.AGENDADO
    assert cliente.get(lista).status_code == 200


@SO_POSTGRESQL
@pytest.mark.django_db(transaction=True)
def test_a_web_request_blocked_past_its_statement_timeout_is_cancelled_and_answers_503():
    cliente = _api(_usuario("gestora-lenta", "gestor"))
    with override_settings(BD_TEMPO_LIMITE_WEB_SEGUNDOS=1), _outra_conexao() as travadora:
        # What a migration altering the table holds.
        travadora.execute("BEGIN")
        travadora.execute("LOCK TABLE clinic_agendamento IN ACCESS EXCLUSIVE MODE")
        connection.close()  # the request opens its own connection, as in gunicorn
        # Released after 5 s whatever happens, so a missing timeout fails instead of hanging.
        soltar = threading.Timer(5, travadora.execute, ["ROLLBACK"])
        soltar.start()
        inicio = time.monotonic()
        resposta = cliente.get("/api/agendamentos/")
        segundos = time.monotonic() - inicio
        soltar.join()
    try:
        _assert_503(resposta, json_esperado=True)
        assert segundos < 5
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == "1s"
            cursor.execute("SHOW application_name")
            assert cursor.fetchone()[0] == "nexkodonto-web"
    finally:
        connection.close()  # the next test's connection keeps the server's defaults


@pytest.mark.django_db
def test_any_database_operational_error_is_a_503_on_both_doors_and_other_errors_are_not():
    """On either database: the mapping itself (a raised OperationalError, no server needed)."""
    gestor = _usuario("gestora-mapa", "gestor", is_staff=True)

    def recusar(execute, sql, params, many, context):
        if '"clinic_agendamento"' in sql:
            raise OperationalError("simulated: server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    api = _api(gestor)
    admin = APIClient()
    admin.force_login(gestor)
    with connection.execute_wrapper(recusar):
        _assert_503(api.get("/api/agendamentos/"), json_esperado=True)
        _assert_503(admin.get("/admin/clinic/agendamento/"), json_esperado=False)
    with override_settings(BD_RETRY_AFTER_SEGUNDOS=30), connection.execute_wrapper(recusar):
        assert api.get("/api/agendamentos/")["Retry-After"] == "30"


@pytest.mark.celery_real
def test_the_settings_refuse_a_worker_statement_timeout_not_below_the_soft_limit():
    import subprocess
    import sys

    from .support import BASE_DIR

    ambiente = process_env(
        redis_url="redis://127.0.0.1:1/0",
        database_url="sqlite:////tmp/nao-usado.sqlite3",
        CELERY_TASK_SOFT_TIME_LIMIT="60",
        BD_TEMPO_LIMITE_WORKER_SEGUNDOS="60",
    )
    feito = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=BASE_DIR,
        env=ambiente,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert feito.returncode != 0
    assert "BD_TEMPO_LIMITE_WORKER_SEGUNDOS=60 must be above 0 and below" in feito.stderr


# --- a row another transaction holds: the service tells it apart ------------------------


@SO_POSTGRESQL
@pytest.mark.django_db(transaction=True)
def test_the_close_says_busy_only_for_a_locked_row_that_is_still_open_and_due():
    ag = _vencido()
    futuro = Agendamento.objects.create(
        paciente=PacienteFactory(),
        dentista=DentistaFactory(),
        data_hora=timezone.now() + timedelta(days=1),
    )
    with _outra_conexao() as outra:
        outra.execute("BEGIN")
        outra.execute(
            "SELECT id FROM clinic_agendamento WHERE id IN (%s, %s) FOR UPDATE",
            [ag.pk, futuro.pk],
        )
        with pytest.raises(services.AgendamentoOcupado):
            services.executar_finalizacao(ag, now=timezone.now(), erro_se_ocupado=True)
        # Without the flag, or for a row that is not due, the answer stays None.
        assert services.executar_finalizacao(ag, now=timezone.now()) is None
        assert (
            services.executar_finalizacao(futuro, now=timezone.now(), erro_se_ocupado=True) is None
        )
        outra.execute("ROLLBACK")
    assert services.executar_finalizacao(ag, now=timezone.now(), erro_se_ocupado=True)
    # Already closed: None, not busy.
    assert services.executar_finalizacao(ag, now=timezone.now(), erro_se_ocupado=True) is None


# --- real processes ---------------------------------------------------------------------


def _vencido() -> Agendamento:
    """An open appointment that ended 3 h ago, saved without the on-save signal."""
    (ag,) = Agendamento.objects.bulk_create(
        [
            Agendamento(
                paciente=PacienteFactory(),
                dentista=DentistaFactory(),
                data_hora=timezone.now() - timedelta(hours=3),
            )
        ]
    )
    ag.refresh_from_db()
    return ag


def _consultas_do_worker(outra: psycopg.Connection, trecho: str) -> list[tuple]:
    """(pid, state, wait_event_type) of the other sessions whose query holds ``trecho``."""
    return outra.execute(
        "SELECT pid, state, wait_event_type FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE %s",
        [f"%{trecho}%"],
    ).fetchall()


@SO_POSTGRESQL
@pytest.mark.celery_real
@pytest.mark.django_db(transaction=True)
def test_a_task_blocked_on_a_lock_has_its_statement_cancelled_before_the_soft_limit(
    redis_proprio,  # noqa: F811
    celery_app,  # noqa: F811
    processos,  # noqa: F811 (a fixture of test_falhas)
):
    suave = 10
    worker = processos.worker(
        redis_proprio.url,
        concurrency=1,
        CELERY_TASK_SOFT_TIME_LIMIT=str(suave),
        CELERY_TASK_TIME_LIMIT=str(suave + 5),
        CELERY_VISIBILITY_TIMEOUT="60",
        BD_TEMPO_LIMITE_WORKER_SEGUNDOS="2",
    )
    assert "statement_timeout 2 s (soft time limit 10 s)" in worker.output()
    ag = _vencido()
    insercao = 'INSERT INTO "clinic_historicostatus"'

    with _outra_conexao() as travadora, _outra_conexao() as observadora:
        # What a migration altering the table holds. The task claims the
        # appointment's row (FOR UPDATE), then its history INSERT waits.
        travadora.execute("BEGIN")
        travadora.execute("LOCK TABLE clinic_historicostatus IN EXCLUSIVE MODE")
        inicio = time.monotonic()
        celery_app.send_task(UM, args=[ag.pk])
        wait_until(
            lambda: any(
                estado == "active" and espera == "Lock"
                for _pid, estado, espera in _consultas_do_worker(observadora, insercao)
            ),
            timeout=20,
            what="the worker's INSERT to wait for the lock",
        )
        # The error's text is withheld from logs (core/logs.py: database errors may
        # quote row values); its type says the server cancelled the statement.
        worker.wait_for_output("QueryCanceled", timeout=suave)
        cancelado_em = time.monotonic() - inicio
        # Still holding the table lock: nothing of the worker is left running,
        # and the appointment's row lock it took was released with its rollback.
        assert not [c for c in _consultas_do_worker(observadora, insercao) if c[1] == "active"]
        observadora.execute("BEGIN")
        observadora.execute(
            "SELECT id FROM clinic_agendamento WHERE id = %s FOR UPDATE NOWAIT", [ag.pk]
        )
        observadora.execute("ROLLBACK")
        travadora.execute("ROLLBACK")
    print(f"statement cancelled {cancelado_em:.1f} s after the publish (soft limit {suave} s)")
    assert cancelado_em < suave
    assert "SoftTimeLimitExceeded" not in worker.output()
    ag.refresh_from_db()
    assert ag.active  # rolled back whole: the sweep closes it later
    assert not HistoricoStatus.objects.filter(agendamento=ag).exists()


@SO_POSTGRESQL
@pytest.mark.celery_real
@pytest.mark.django_db(transaction=True)
def test_the_on_save_task_retries_a_row_a_confirm_holds_and_closes_it_once_released(
    redis_proprio,  # noqa: F811
    celery_app,  # noqa: F811
    processos,  # noqa: F811 (a fixture of test_falhas)
):
    worker = processos.worker(redis_proprio.url, concurrency=1)
    ag = _vencido()
    travado, liberar = threading.Event(), threading.Event()
    erros: list[BaseException] = []

    def confirmar_e_segurar():
        # A confirm request whose transaction is still open when the task runs.
        try:
            with transaction.atomic():
                services.agendamento_confirmar(ag, usuario=None, now=timezone.now())
                travado.set()
                assert liberar.wait(30)
        except BaseException as erro:  # reported by the main thread
            erros.append(erro)
            travado.set()
        finally:
            connection.close()

    confirmacao = threading.Thread(target=confirmar_e_segurar)
    confirmacao.start()
    try:
        assert travado.wait(10) and not erros
        celery_app.send_task(UM, args=[ag.pk])  # what the save's on_commit publishes
        worker.wait_for_output(f"appointment {ag.pk} is locked by another transaction", timeout=20)
        assert Agendamento.objects.get(pk=ag.pk).active
    finally:
        liberar.set()
        confirmacao.join(30)
    assert not erros, erros
    solto_em = time.monotonic()
    wait_until(
        lambda: Atendimento.objects.filter(agendamento=ag).exists(),
        timeout=30,
        what="the retried task to close the appointment",
    )
    print(f"closed {time.monotonic() - solto_em:.1f} s after the lock was released")
    assert time.monotonic() - solto_em < 10
    ag.refresh_from_db()
    assert (ag.status, ag.active) == (Agendamento.Status.CONCLUIDO, False)
    assert Atendimento.objects.filter(agendamento=ag).count() == 1
    assert list(ag.historico.values_list("status_novo", flat=True)) == [
        "confirmado",
        "concluido",
    ]
    assert "Retry in" in worker.output()


def _pedir(url: str, corpo: dict | None = None, token: str = "") -> tuple[int, dict, bytes]:
    """(status, headers, body) of a GET, or of a POST of ``corpo`` as JSON; status 0: no answer."""
    cabecalhos = {"Content-Type": "application/json"}
    if token:
        cabecalhos["Authorization"] = f"Token {token}"
    pedido = urllib.request.Request(
        url, data=json.dumps(corpo).encode() if corpo is not None else None, headers=cabecalhos
    )
    try:
        with urllib.request.urlopen(pedido, timeout=30) as resposta:
            return resposta.status, dict(resposta.headers), resposta.read()
    except urllib.error.HTTPError as erro:
        return erro.code, dict(erro.headers), erro.read()
    except OSError:
        return 0, {}, b""


@SO_POSTGRESQL
@pytest.mark.celery_real
@pytest.mark.django_db(transaction=True)
def test_bookings_through_gunicorn_while_its_backends_are_killed_never_answer_500(
    redis_proprio,  # noqa: F811
    processos,  # noqa: F811 (a fixture of test_falhas)
):
    token = token_criar(_usuario("recepcao-caos", "recepcao"))
    paciente = PacienteFactory()
    _web, porta = processos.web(redis_proprio.url)
    url = f"http://127.0.0.1:{porta}/api/agendamentos/"
    fim = time.monotonic() + 20
    respostas: list[tuple[int, dict, str, bytes]] = []
    mortos = [0]
    # Future slots (nothing to enqueue): each client books its own dentist.
    inicio = timezone.now().replace(microsecond=0) + timedelta(days=3)

    def cliente():
        dentista = DentistaFactory()
        connection.close()  # the thread's own connection, opened by the factory
        n = 0
        while time.monotonic() < fim:
            marcador = f"caos-{uuid.uuid4().hex}"
            corpo = {
                "paciente": paciente.pk,
                "dentista": dentista.pk,
                "data_hora": (inicio + timedelta(minutes=30 * n)).isoformat(),
                "observacoes": marcador,
            }
            status, cabecalhos, conteudo = _pedir(url, corpo, token)
            respostas.append((status, cabecalhos, marcador, conteudo))
            n += 1

    def assassino():
        # A PostgreSQL restart or failover, over and over: every web backend dies.
        with _outra_conexao() as outra:
            while time.monotonic() < fim:
                mortos[0] += outra.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name = %s",
                    ["nexkodonto-web"],
                ).fetchone()[0]
                time.sleep(random.uniform(0.05, 0.3))

    fios = [threading.Thread(target=cliente) for _ in range(2)]
    fios.append(threading.Thread(target=assassino))
    for fio in fios:
        fio.start()
    for fio in fios:
        fio.join(60)

    contagem: dict[int, int] = {}
    for status, *_resto in respostas:
        contagem[status] = contagem.get(status, 0) + 1
    print(f"{len(respostas)} bookings, {mortos[0]} backends terminated, answers {contagem}")
    inesperadas = [(s, c[:300]) for s, _h, _m, c in respostas if not (200 <= s < 500 or s == 503)]
    assert not inesperadas, inesperadas
    sem_retry_after = [m for s, h, m, _c in respostas if s == 503 and "Retry-After" not in h]
    assert not sem_retry_after
    assert contagem.get(503, 0) >= 1, "no request met a dead connection: nothing was tested"
    assert contagem.get(201, 0) >= 1
    # The database holds exactly what the 201s said: no booking a 503 half-wrote.
    criados = {m for s, _h, m, _c in respostas if s == 201}
    gravados = set(
        Agendamento.objects.filter(observacoes__startswith="caos-").values_list(
            "observacoes", flat=True
        )
    )
    assert gravados == criados
    assert HistoricoStatus.objects.filter(agendamento__observacoes__startswith="caos-").count() == (
        len(criados)
    )
