"""Backups that restore (issue 10, item 7), with the real tools and real processes.

PostgreSQL: ``pg_dump -Fc`` of a database holding the demo data plus history,
``pg_restore`` into an EMPTY database, then the restored copy migrates (no-op),
sweeps and serves the API. SQLite: ``manage.py copia_sqlite`` while the WAL
holds committed pages a file copy would miss, then the same checks on the copy.
The steps are the ones docs/DEPLOY.md ("Backups") gives an operator.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection

from apps.clinic.tests.support import BIN, Proc, manage, porta_livre, process_env, wait_until
from apps.clinic.tests.test_falhas import RedisProprio, _status

# Every table of the clinic, plus the logins and the sweep's schedule.
TABELAS = sorted(
    {m._meta.db_table for m in apps.get_app_config("clinic").get_models()}
    | {"auth_user", "auth_user_groups", "django_celery_beat_periodictask"}
)

# Demo data (manage.py demo), the sweep, then one of each transition through
# the services, as the API would drive them. Prints the id of the appointment
# with the longest history. Publishes go to a closed port: nobody consumes
# them, the saves succeed (logged), and nothing lands in a shared queue.
HISTORICO = """
import json
import os
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.utils import timezone
from apps.clinic import services
from apps.clinic.models import Agendamento, Paciente
User = get_user_model()
gestor, dentista = User.objects.get(username="gestor"), User.objects.get(username="dentista")
agora = timezone.now()
fechados = list(Agendamento.objects.filter(status="concluido").order_by("data_hora"))
assert len(fechados) == 3, fechados
futuros = list(Agendamento.objects.filter(active=True).order_by("data_hora"))
# An automatic close reopened by the gestor, then closed by the dentist.
alvo = fechados[0]
services.agendamento_reabrir(alvo, usuario=gestor, now=agora, motivo="Revisar")
services.agendamento_finalizar(
    Agendamento.objects.get(pk=alvo.pk), usuario=dentista, now=agora,
    diagnostico="Gengivite leve", tratamento_realizado="Raspagem",
)
services.agendamento_confirmar(futuros[0], usuario=gestor, now=agora)
services.agendamento_confirmar(futuros[1], usuario=gestor, now=agora)
services.agendamento_cancelar(
    Agendamento.objects.get(pk=futuros[1].pk), usuario=gestor, now=agora, motivo="Viagem"
)
faltou = services.agendamento_criar(
    paciente=Paciente.objects.first(), dentista=alvo.dentista,
    data_hora=agora - timedelta(hours=9), permitir_retroativo=True,
    permitir_fora_do_expediente=True,  # the demo dentist's plan; the hour is the clock's
)
services.agendamento_marcar_falta(faltou, usuario=gestor, now=agora)
print(json.dumps({"alvo": alvo.pk}))
"""

# A new appointment already over, inserted by SQL on the restored copy (no
# signal, no task): only the sweep closes it.
VENCIDO = """
from datetime import timedelta
from django.db import connection
from django.utils import timezone
from apps.clinic.models import Agendamento
modelo = Agendamento.objects.order_by("id").first()
with connection.cursor() as c:
    c.execute(
        "INSERT INTO clinic_agendamento (paciente_id, dentista_id, data_hora, duracao_minutos,"
        " observacoes, status, active, fechamento_automatico, horario_estimado,"
        " cancelamento_tardio, created_at, updated_at)"
        " VALUES (%s, %s, %s, 30, '', 'agendado', true, true, false, false, %s, %s)",
        [modelo.paciente_id, modelo.dentista_id, timezone.now() - timedelta(days=3),
         timezone.now(), timezone.now()],
    )
"""


@pytest.fixture
def redis_cache():
    """A Redis of the test's own: the processes' cache (login limit); they publish nowhere."""
    servidor = RedisProprio()
    servidor.iniciar()
    yield servidor.url
    servidor.parar()


def _ambiente(tmp: Path, url_redis: str, database_url: str) -> dict:
    return process_env(
        redis_url=url_redis,
        database_url=database_url,
        BROKER_URL=f"redis://127.0.0.1:{porta_livre()}/0",
        NEXKODONTO_VAR_DIR=str(tmp / "var"),
        CACHE_KEY_PREFIX=f"nxk-backup-{uuid.uuid4().hex}",
        NEXKODONTO_DEMO="1",
    )


def _carregar_demo_e_historico(env: dict) -> int:
    """migrate, demo, the sweep and transitions on ``env``'s database; the target's id."""
    manage("migrate", "--noinput", env=env, timeout=300)
    manage("demo", env=env)
    assert "3 agendamento(s) finalizado(s)" in manage("finalizar_agendamentos", env=env).stdout
    saida = manage("shell", "-c", HISTORICO, env=env).stdout
    return json.loads(saida.strip().splitlines()[-1])["alvo"]


def _contagens(consultar) -> dict[str, int]:
    return {t: consultar(f'SELECT count(*) FROM "{t}"')[0][0] for t in TABELAS}


def _historia(consultar, pk: int) -> dict:
    """Everything about one appointment: its row, its visit record, its history in order."""
    return {
        "agendamento": consultar(
            "SELECT status, active, data_hora, duracao_minutos, fechamento_automatico"
            f" FROM clinic_agendamento WHERE id = {pk}"
        ),
        "atendimento": consultar(
            "SELECT diagnostico, tratamento_realizado, origem, created_at"
            f" FROM clinic_atendimento WHERE agendamento_id = {pk}"
        ),
        "historico": consultar(
            "SELECT status_anterior, status_novo, registrado_em, usuario_id, task_id, motivo"
            f" FROM clinic_historicostatus WHERE agendamento_id = {pk}"
            " ORDER BY registrado_em, id"
        ),
    }


def _confere_copia(consultar_origem, consultar_copia, alvo: int) -> None:
    contagens = _contagens(consultar_origem)
    assert contagens["clinic_agendamento"] == 6 and contagens["clinic_atendimento"] == 3
    assert _contagens(consultar_copia) == contagens
    historia = _historia(consultar_origem, alvo)
    # agendado -> concluido (sweep) -> reopened -> concluido (the dentist).
    assert [linha[1] for linha in historia["historico"]] == [
        "agendado",
        "concluido",
        "agendado",
        "concluido",
    ]
    assert historia["atendimento"][0][:3] == ("Gengivite leve", "Raspagem", "manual")
    assert _historia(consultar_copia, alvo) == historia


def _copia_funciona(tmp: Path, env: dict, *, agendamentos: int) -> None:
    """On the restored copy: migrate is a no-op, the sweep closes, the API serves a page."""
    assert "No migrations to apply" in manage("migrate", "--noinput", env=env).stdout
    manage("shell", "-c", VENCIDO, env=env)
    assert "1 agendamento(s) finalizado(s)" in manage("finalizar_agendamentos", env=env).stdout

    senha = (Path(env["NEXKODONTO_VAR_DIR"]) / "demo_credenciais.txt").read_text()
    senha = senha.split(":", 1)[1].splitlines()[0].strip()
    porta = porta_livre()
    web = Proc(
        "gunicorn-restaurado",
        [str(BIN / "gunicorn"), "core.wsgi", "--bind", f"127.0.0.1:{porta}"]
        + ["--workers", "1", "--no-control-socket"],
        env,
        tmp,
    )
    try:
        web.wait_for_output("Booting worker", timeout=60)
        base = f"http://127.0.0.1:{porta}"

        def pedir(caminho, corpo=None, token=None):
            pedido = urllib.request.Request(
                base + caminho,
                data=json.dumps(corpo).encode() if corpo else None,
                headers={"Content-Type": "application/json"}
                | ({"Authorization": f"Token {token}"} if token else {}),
            )
            with urllib.request.urlopen(pedido, timeout=10) as resposta:
                return resposta.status, json.loads(resposta.read())

        wait_until(
            lambda: _status(base + "/healthz") == 200,
            timeout=30,
            what="gunicorn on the restored database",
        )
        _, login = pedir("/api/auth/token/", {"username": "gestor", "password": senha})
        status, pagina = pedir("/api/agendamentos/", token=login["token"])
        assert status == 200
        assert pagina["count"] == agendamentos
    finally:
        web.stop()


# --- PostgreSQL: pg_dump -Fc, pg_restore into an empty database -----------------------


def _admin_pg() -> dict:
    s = connection.settings_dict
    return {
        "host": s.get("HOST") or "localhost",
        "port": s.get("PORT") or "5432",
        "user": s.get("USER") or None,
        "password": s.get("PASSWORD") or None,
    }


def _url_pg(params: dict, nome: str) -> str:
    auth = quote(params["user"] or "", safe="")
    if params["password"]:
        auth += ":" + quote(params["password"], safe="")
    return f"postgres://{auth}@{params['host']}:{params['port']}/{nome}"


@pytest.fixture
def bancos_pg():
    """Two new, empty databases (source and restore target), dropped at the end."""
    params = _admin_pg()
    prefixo = f"{connection.settings_dict['NAME'].removeprefix('test_')}_bkp_{uuid.uuid4().hex[:8]}"
    nomes = [f"{prefixo}_origem", f"{prefixo}_restaurado"]
    with psycopg.connect(**params, dbname="postgres", autocommit=True) as admin:
        for nome in nomes:
            admin.execute(f'CREATE DATABASE "{nome}" TEMPLATE template0')
    yield params, nomes
    with psycopg.connect(**params, dbname="postgres", autocommit=True) as admin:
        for nome in nomes:
            admin.execute(f'DROP DATABASE IF EXISTS "{nome}" WITH (FORCE)')


@pytest.mark.celery_real
@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump / pg_restore: PostgreSQL")
def test_a_pg_dump_restored_into_an_empty_database_has_every_row_and_serves(
    bancos_pg,
    tmp_path,
    redis_cache,
):
    params, (origem, restaurado) = bancos_pg
    env = _ambiente(tmp_path, redis_cache, _url_pg(params, origem))
    alvo = _carregar_demo_e_historico(env)

    # The commands of docs/DEPLOY.md, "Backups": a custom-format dump...
    dump = tmp_path / "nexkodonto.dump"
    pg = {"PGHOST": params["host"], "PGPORT": str(params["port"]), "PGUSER": params["user"] or ""}
    pg |= {"PGPASSWORD": params["password"]} if params["password"] else {}
    pg_env = {**env, **pg}
    subprocess.run(
        ["pg_dump", "-Fc", "--no-owner", "-d", origem, "-f", str(dump)], env=pg_env, check=True
    )
    # ...restored into an empty database, stopping at the first error.
    subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", "-d", restaurado, str(dump)],
        env=pg_env,
        check=True,
    )

    conexoes = {n: psycopg.connect(**params, dbname=n) for n in (origem, restaurado)}
    try:

        def consultar(nome):
            return lambda sql: conexoes[nome].execute(sql).fetchall()

        _confere_copia(consultar(origem), consultar(restaurado), alvo)
    finally:
        for c in conexoes.values():
            c.close()
    _copia_funciona(tmp_path, {**env, "DATABASE_URL": _url_pg(params, restaurado)}, agendamentos=7)


# --- SQLite: copia_sqlite (online backup API) -----------------------------------------


@pytest.mark.celery_real
@pytest.mark.skipif(connection.vendor != "sqlite", reason="the embedded SQLite's backup")
def test_copia_sqlite_takes_what_the_wal_holds_and_the_copy_restores_and_serves(
    tmp_path,
    redis_cache,
):
    banco = tmp_path / "var" / "db.sqlite3"
    banco.parent.mkdir()
    env = _ambiente(tmp_path, redis_cache, f"sqlite:///{banco}")
    manage("migrate", "--noinput", env=env, timeout=300)
    # A connection held open, as a running site holds one: SQLite then does not
    # checkpoint when the commands close theirs, and the data stays in the WAL.
    aberta = sqlite3.connect(banco)
    aberta.execute("PRAGMA wal_autocheckpoint=0")
    aberta.execute("SELECT count(*) FROM clinic_agendamento").fetchall()
    try:
        alvo = _carregar_demo_e_historico(env)
        assert Path(f"{banco}-wal").stat().st_size > 0
        # What a file copy of the live database gets: not the demo data.
        copia_de_arquivo = tmp_path / "copia-de-arquivo.sqlite3"
        shutil.copyfile(banco, copia_de_arquivo)
        with sqlite3.connect(copia_de_arquivo) as c:
            assert c.execute("SELECT count(*) FROM clinic_agendamento").fetchone()[0] == 0

        destino = tmp_path / "backup" / "nexkodonto.sqlite3"
        destino.parent.mkdir()
        saida = manage("copia_sqlite", str(destino), env=env).stdout
        assert "integridade ok" in saida
    finally:
        aberta.close()
    assert not Path(f"{destino}-wal").exists()

    # Restore as docs/DEPLOY.md says: (site stopped) the copy in place of db.sqlite3.
    restaurado = tmp_path / "restaurado" / "var" / "db.sqlite3"
    restaurado.parent.mkdir(parents=True)
    shutil.copyfile(destino, restaurado)
    with sqlite3.connect(banco) as o, sqlite3.connect(restaurado) as r:
        _confere_copia(
            lambda sql: o.execute(sql).fetchall(), lambda sql: r.execute(sql).fetchall(), alvo
        )
    env_restaurado = {**env, "DATABASE_URL": f"sqlite:///{restaurado}"}
    shutil.copy(banco.parent / "demo_credenciais.txt", restaurado.parent)
    env_restaurado["NEXKODONTO_VAR_DIR"] = str(restaurado.parent)
    _copia_funciona(tmp_path, env_restaurado, agendamentos=7)


# --- copia_sqlite refuses what it cannot do, clearly, writing nothing --------------------


@pytest.mark.skipif(connection.vendor != "sqlite", reason="copia_sqlite runs on SQLite")
@pytest.mark.django_db
def test_copia_sqlite_refuses_a_bad_destination_and_writes_nothing(tmp_path):
    existente = tmp_path / "existente.sqlite3"
    existente.write_bytes(b"antigo")
    casos = {
        str(tmp_path / "nao-existe" / "copia.sqlite3"): "não existe",
        str(tmp_path): "é um diretório",
        str(existente): "já existe: use --substituir",
        connection.settings_dict["NAME"]: "o próprio banco em uso",
    }
    for destino, mensagem in casos.items():
        with pytest.raises(CommandError, match=mensagem):
            call_command("copia_sqlite", destino)
    assert existente.read_bytes() == b"antigo"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existente.sqlite3"]

    # --substituir replaces it with a real database.
    call_command("copia_sqlite", str(existente), "--substituir")
    with sqlite3.connect(existente) as c:
        assert c.execute("SELECT count(*) FROM django_migrations").fetchone()[0] > 0


def _identidade(arquivo: Path) -> tuple | None:
    """Inode and size of ``arquivo`` (None if absent), read without opening it.

    A rename over it would change the inode. (Not the mtime: SQLite writes
    the -shm through a memory map, which may touch it at any time.)

    Never open() the live database's files in the test process: closing any
    descriptor of a file drops every POSIX lock this process holds on it
    (fcntl(2)), SQLite's lock on the -shm included; the next process to open
    the database (a worker) then truncates the -shm this process has mapped,
    and this process dies of SIGBUS at its next query (CI's embedded pass
    did, in test_broker_blip's teardown).
    """
    if not arquivo.exists():
        return None
    info = arquivo.stat()
    return info.st_ino, info.st_size


@pytest.mark.skipif(connection.vendor != "sqlite", reason="copia_sqlite runs on SQLite")
@pytest.mark.django_db
def test_copia_sqlite_substituir_never_replaces_the_live_wal_nor_a_device(tmp_path):
    # Found by the operator's run: `--substituir var/db.sqlite3-wal` renamed a
    # database over the live WAL, and, as root, `--substituir /dev/null`
    # replaced the device with a regular file.
    vivo = Path(connection.settings_dict["NAME"])
    for sufixo in ("-wal", "-shm", "-journal"):
        companheiro = vivo.with_name(vivo.name + sufixo)
        antes = _identidade(companheiro)
        with pytest.raises(CommandError, match="arquivo do próprio banco em uso"):
            call_command("copia_sqlite", str(companheiro), "--substituir")
        assert _identidade(companheiro) == antes
    fifo = tmp_path / "fila"
    os.mkfifo(fifo)
    with pytest.raises(CommandError, match="não é um arquivo comum"):
        call_command("copia_sqlite", str(fifo), "--substituir")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fila"]


@pytest.mark.skipif(connection.vendor == "sqlite", reason="the refusal on a server database")
@pytest.mark.django_db
def test_copia_sqlite_on_postgresql_points_to_pg_dump(tmp_path):
    with pytest.raises(CommandError, match="pg_dump -Fc"):
        call_command("copia_sqlite", str(tmp_path / "copia.sqlite3"))
    assert not list(tmp_path.iterdir())
