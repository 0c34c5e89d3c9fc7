"""What every benchmark shares: the database, fast data loading, counting, the report.

Import this module before anything from ``apps``: it points Django at the
benchmark database (``BENCH_DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/bench_nexkodonto``), creates that
database if it is missing and migrates it.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

BENCH_DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_nexkodonto"
)
RAIZ = Path(__file__).resolve().parent.parent

os.environ["DATABASE_URL"] = BENCH_DATABASE_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings")
# Nothing here publishes to the broker (rows are loaded with SQL, not saved by
# the ORM), but settings want a URL: never the embedded socket of `make run`.
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/13")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# One long-lived connection: the sweep's own health check per request is not
# what is measured.
os.environ.setdefault("CONN_MAX_AGE", "0")


def _criar_banco_se_faltar(url: str) -> None:
    """Create the database named in ``url`` (PostgreSQL) if it does not exist."""
    import environ
    import psycopg

    cfg = environ.Env.db_url_config(url)
    if "postgresql" not in cfg["ENGINE"]:
        return
    nome = cfg["NAME"]
    conninfo = {
        "host": cfg.get("HOST") or "127.0.0.1",
        "port": cfg.get("PORT") or 5432,
        "user": cfg.get("USER") or "postgres",
        "dbname": "postgres",
    }
    if cfg.get("PASSWORD"):
        conninfo["password"] = cfg["PASSWORD"]
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        existe = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [nome]).fetchone()
        if not existe:
            conn.execute(f'CREATE DATABASE "{nome}"')


def configurar() -> None:
    """Set Django up on the benchmark database: create it if missing, then migrate."""
    import django

    _criar_banco_se_faltar(BENCH_DATABASE_URL)
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


# --- Loading --------------------------------------------------------------------

DENTISTAS = 200
PACIENTES = 10_000
# Each generated appointment gets its own (dentist, 30-minute slot), so the
# exclusion constraint on overlapping appointments holds for real rows
# (horario_estimado = false): the GiST index is maintained as in production.
DURACAO = 30


def truncar() -> None:
    """Empty the clinic's tables (and their sequences)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "TRUNCATE clinic_atendimento, clinic_historicostatus, clinic_agendamento,"
            " clinic_paciente, clinic_dentista RESTART IDENTITY CASCADE"
        )


def carregar(
    *,
    now: datetime,
    vencidos: int = 0,
    futuros: int = 0,
    historico: int = 0,
    estimado: bool = False,
) -> None:
    """Truncate and load appointments with ``INSERT … SELECT generate_series``.

    - ``vencidos`` open appointments (half agendado, half confirmado; half with
      ``observacoes``) that ended before ``now`` (aware datetime): due;
    - ``futuros`` open appointments starting after ``now``;
    - ``historico`` closed ones before the due ones (concluido with their
      visit record and history row, faltou, cancelado).

    Then ``VACUUM ANALYZE`` and a ``CHECKPOINT``, so every variant starts from
    the same state (statistics fresh, no dirty pages from the load).
    """
    from django.db import connection

    truncar()
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO clinic_dentista (nome, cro, ativo, created_at, updated_at)"
            " SELECT 'Dentista ' || g, 'CRO-ES ' || g, true, %s, %s"
            " FROM generate_series(1, %s) g",
            [now, now, DENTISTAS],
        )
        cur.execute(
            "INSERT INTO clinic_paciente (nome, telefone, email, created_at, updated_at)"
            " SELECT 'Paciente ' || g, '', '', %s, %s FROM generate_series(1, %s) g",
            [now, now, PACIENTES],
        )

        def inserir(n: int, inicio_sql: str, status_sql: str, active_sql: str) -> None:
            if n <= 0:
                return
            # g = 0..n-1; dentist g % D, slot g / D: no two rows of a dentist overlap.
            cur.execute(
                "INSERT INTO clinic_agendamento (paciente_id, dentista_id, data_hora,"
                " duracao_minutos, observacoes, status, active, fechamento_automatico,"
                " horario_estimado, cancelamento_tardio, created_at, updated_at)"
                f" SELECT 1 + g %% {PACIENTES}, 1 + g %% {DENTISTAS}, {inicio_sql},"
                f" {DURACAO}, CASE WHEN g %% 2 = 0 THEN '' ELSE 'Limpeza e profilaxia' END,"
                f" {status_sql}, {active_sql}, true, {estimado}, false, %(now)s, %(now)s"
                " FROM generate_series(0, %(n)s - 1) g",
                {"now": now, "n": n},
            )

        slot = f"make_interval(mins => {DURACAO} * (g / {DENTISTAS}))"
        # History: ends a day before the due ones start.
        dias_historico = 2 + (historico // DENTISTAS * DURACAO) // (24 * 60)
        inserir(
            historico,
            f"%(now)s - interval '{dias_historico + 2} days'"
            f" - interval '{(vencidos // DENTISTAS + 1) * DURACAO} minutes' + {slot}",
            "(ARRAY['concluido','concluido','concluido','faltou','cancelado'])[1 + g %% 5]",
            "false",
        )
        # Due: the last one ends an hour before now.
        inserir(
            vencidos,
            f"%(now)s - interval '1 hour' - make_interval(mins => {DURACAO}) - {slot}",
            "CASE WHEN g %% 2 = 0 THEN 'agendado' ELSE 'confirmado' END",
            "true",
        )
        inserir(
            futuros,
            f"%(now)s + interval '1 hour' + {slot}",
            "CASE WHEN g %% 2 = 0 THEN 'agendado' ELSE 'confirmado' END",
            "true",
        )
        if historico:
            cur.execute(
                "INSERT INTO clinic_atendimento (agendamento_id, diagnostico,"
                " tratamento_realizado, origem, created_at, updated_at)"
                " SELECT id, 'Consulta', 'Realizado', 'manual', data_hora, data_hora"
                " FROM clinic_agendamento WHERE status = 'concluido'"
            )
            cur.execute(
                "INSERT INTO clinic_historicostatus (agendamento_id, status_anterior,"
                " status_novo, registrado_em, task_id, motivo, pelo_paciente)"
                " SELECT id, 'agendado', status, data_hora, '', '', FALSE"
                " FROM clinic_agendamento WHERE NOT active"
            )
    preparar()


def preparar() -> None:
    """``VACUUM ANALYZE`` the clinic's tables and ``CHECKPOINT``."""
    from django.db import connection

    with connection.cursor() as cur:
        for tabela in (
            "clinic_agendamento",
            "clinic_atendimento",
            "clinic_historicostatus",
            "clinic_paciente",
            "clinic_dentista",
        ):
            cur.execute(f"VACUUM (ANALYZE) {tabela}")
        cur.execute("CHECKPOINT")


def contar(tabela: str, where: str = "TRUE") -> int:
    """``SELECT count(*) FROM tabela WHERE where`` (trusted SQL only)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {tabela} WHERE {where}")
        return cur.fetchone()[0]


# --- Measuring ------------------------------------------------------------------


@dataclass
class Medida:
    """One timed run: wall-clock seconds and SQL statements sent by Django."""

    segundos: float
    comandos: int


class ContadorSQL:
    """Counts the statements Django executes (``connection.execute_wrapper``).

    Unlike ``CaptureQueriesContext`` it keeps no log (that one is capped at
    9,000 entries) and costs about a microsecond per statement. BEGIN/COMMIT
    are not statements Django executes (psycopg sends them): not counted.
    """

    def __init__(self) -> None:
        self.n = 0
        self.sqls: list[tuple[str, object]] = []
        self.guardar = 0

    def __call__(self, execute, sql, params, many, context):
        self.n += 1
        if len(self.sqls) < self.guardar:
            self.sqls.append((sql, params))
        return execute(sql, params, many, context)


@contextmanager
def contando(guardar: int = 0) -> Iterator[ContadorSQL]:
    """Count the statements run inside the block; keep the first ``guardar`` (sql, params)."""
    from django.db import connection

    contador = ContadorSQL()
    contador.guardar = guardar
    with connection.execute_wrapper(contador):
        yield contador


def medir(funcao: Callable[[], object], sqls: list | None = None) -> tuple[Medida, object]:
    """Run ``funcao()`` once; return its ``Medida`` and its result.

    If ``sqls`` is a list, the first 20 (sql, params) executed are appended to it.
    """
    with contando(guardar=20 if sqls is not None else 0) as contador:
        inicio = time.perf_counter()
        resultado = funcao()
        segundos = time.perf_counter() - inicio
    if sqls is not None:
        sqls.extend(contador.sqls)
    return Medida(segundos, contador.n), resultado


def mediana(valores: list[float]) -> float:
    """The median of ``valores``."""
    return statistics.median(valores)


# --- Report ---------------------------------------------------------------------


def _memoria_gib() -> float:
    with open("/proc/meminfo") as f:
        for linha in f:
            if linha.startswith("MemTotal:"):
                return int(linha.split()[1]) / 1024 / 1024
    return 0.0


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for linha in f:
                if linha.startswith("model name"):
                    return linha.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def carga() -> str:
    """The load averages (1, 5, 15 min) as text."""
    um, cinco, quinze = os.getloadavg()
    return f"{um:.2f} / {cinco:.2f} / {quinze:.2f}"


def maquina() -> str:
    """One paragraph describing the machine and the software versions, with the date."""
    import django
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        pg = cur.fetchone()[0]
        cur.execute("SHOW fsync")
        fsync = cur.fetchone()[0]
        cur.execute("SHOW shared_buffers")
        buffers = cur.fetchone()[0]
    return (
        f"Measured {datetime.now().astimezone():%Y-%m-%d %H:%M %Z} on {os.cpu_count()} cores"
        f" ({_cpu()}), {_memoria_gib():.0f} GiB RAM, {platform.system()} {platform.release()};"
        f" PostgreSQL {pg} (fsync {fsync}, shared_buffers {buffers}) on loopback,"
        f" Python {platform.python_version()}, Django {django.get_version()}."
        f" Load average (1/5/15 min) at the start: {carga()}."
    )


def fmt_s(segundos: float) -> str:
    """Seconds with three significant-ish decimals."""
    return f"{segundos:.3f}" if segundos < 10 else f"{segundos:.1f}"


def fmt_n(n: int) -> str:
    """An integer with thousands separators."""
    return f"{n:,}"
