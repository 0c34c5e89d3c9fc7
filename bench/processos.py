"""Shared by benchmarks 6-8: a throw-away database, real processes, the machine, the report.

Call :func:`preparar` before importing anything from ``apps``: it points this
process (and the environment handed to the worker / gunicorn it starts) at a
fresh PostgreSQL database ``bench2_<name>`` and a Redis DB of its own, migrates
with ``manage.py migrate`` and sets Django up. :func:`encerrar` drops both.

Settings: ``BENCH2_PG`` (server URL without database name, default
``postgres://postgres@127.0.0.1:5432``), ``BENCH2_REDIS`` (default
``redis://127.0.0.1:6379``), ``NEXKODONTO_VAR_DIR`` (default
``/tmp/wt-bench2-var``, where the process logs go).
"""

from __future__ import annotations

import os
import platform
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

RAIZ = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG = os.environ.get("BENCH2_PG", "postgres://postgres@127.0.0.1:5432").rstrip("/")
REDIS = os.environ.get("BENCH2_REDIS", "redis://127.0.0.1:6379").rstrip("/")
VAR_DIR = Path(os.environ.setdefault("NEXKODONTO_VAR_DIR", "/tmp/wt-bench2-var"))


def _pg_admin():
    import psycopg

    return psycopg.connect(f"{PG}/postgres", autocommit=True)


def preparar(nome_banco: str, redis_db: int, **extra_env: str) -> dict[str, str]:
    """Create (afresh) and migrate ``nome_banco``, empty Redis DB ``redis_db``, set Django up.

    Returns the environment for project subprocesses (worker, gunicorn) pointed
    at the same database and Redis DB.
    """
    assert nome_banco.startswith("bench2_"), "only bench2_* databases are used"
    assert redis_db in (8, 9), "only Redis DBs 8 and 9 are used"
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{nome_banco}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{nome_banco}"')
    # The benchmarks measure the Redis broker (bench.memoria reads its queue
    # lengths): a BROKER_URL naming RabbitMQ is left out.
    os.environ.pop("BROKER_URL", None)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(
        DATABASE_URL=f"{PG}/{nome_banco}",
        REDIS_URL=f"{REDIS}/{redis_db}",
        NEXKODONTO_VAR_DIR=str(VAR_DIR),
        SECRET_KEY="bench-secret-key-not-for-production",
        DJANGO_SETTINGS_MODULE="core.settings",
        PYTHONUNBUFFERED="1",
        NEXKODONTO_DEMO="0",
        **extra_env,
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
        cwd=RAIZ,
        env=env,
        check=True,
        timeout=600,
    )
    limpar_redis(redis_db)
    os.environ.update(env)
    os.environ["LOG_LEVEL"] = "WARNING"  # this process: no INFO line per publish
    import django

    django.setup()
    return env


def limpar_redis(redis_db: int) -> None:
    """FLUSHDB of Redis DB ``redis_db`` (8 or 9 only)."""
    import redis

    assert redis_db in (8, 9)
    redis.Redis.from_url(f"{REDIS}/{redis_db}").flushdb()


def encerrar(nome_banco: str, redis_db: int) -> None:
    """Close this process's connections, drop ``nome_banco`` and empty Redis DB ``redis_db``."""
    from django.db import connections

    assert nome_banco.startswith("bench2_")
    connections.close_all()
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{nome_banco}" WITH (FORCE)')
    limpar_redis(redis_db)


class Processo:
    """A project subprocess in its own session, output in ``VAR_DIR/<nome>.log``."""

    def __init__(self, nome: str, args: list[str], env: dict[str, str]) -> None:
        self.nome = nome
        self.log = VAR_DIR / f"{nome}.log"
        self._fh = self.log.open("wb")
        self.popen = subprocess.Popen(
            args,
            cwd=RAIZ,
            env=env,
            stdout=self._fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        """The process id of the main process."""
        return self.popen.pid

    def saida(self) -> str:
        """Everything the process wrote so far."""
        return self.log.read_text(errors="replace")

    def esperar_texto(self, texto: str, timeout: float = 60) -> None:
        """Wait until ``texto`` appears in the output; raise if it exits or times out."""
        limite = time.monotonic() + timeout
        while texto not in self.saida():
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.nome} exited:\n{self.saida()[-3000:]}")
            if time.monotonic() > limite:
                raise TimeoutError(f"{self.nome}: no {texto!r} after {timeout} s")
            time.sleep(0.1)

    def parar(self, timeout: float = 30) -> None:
        """SIGTERM (warm shutdown), then SIGKILL of its own process group after ``timeout``."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
        self._fh.close()


def iniciar_worker(
    env: dict[str, str], *, concurrency: int = 2, nome: str = "worker", fila: str | None = None
) -> Processo:
    """Start ``celery -A core worker`` (INFO log, as in production) and wait until ready.

    ``fila``: consume only that queue (``-Q``); None, every queue of the settings.
    """
    proc = Processo(
        nome,
        [
            str(BIN / "celery"),
            "-A",
            "core",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            str(concurrency),
            "--without-mingle",
            "--without-gossip",
            "--hostname",
            f"{nome}-bench2@%h",
            *(["-Q", fila] if fila else []),
        ],
        env,
    )
    proc.esperar_texto(" ready.", timeout=90)
    return proc


def carga() -> tuple[float, float, float]:
    """The 1/5/15-minute load averages."""
    return os.getloadavg()


def aguardar_carga_baixa(limite: float = 0.8, maximo_s: float = 600, intervalo: float = 30):
    """Wait (polling every ``intervalo`` s, at most ``maximo_s``) for 1-min load < ``limite``.

    Returns the load averages when it stopped waiting (met or not).
    """
    fim = time.monotonic() + maximo_s
    while carga()[0] >= limite and time.monotonic() < fim:
        print(f"load {carga()[0]:.2f} >= {limite}: waiting {intervalo:.0f} s", flush=True)
        time.sleep(intervalo)
    return carga()


def maquina() -> str:
    """One line: cores, CPU, RAM, kernel, PostgreSQL, Redis, Python and Django versions."""
    import django
    import redis
    from django.db import connection

    cpu = "?"
    try:
        for linha in Path("/proc/cpuinfo").read_text().splitlines():
            if linha.startswith("model name"):
                cpu = linha.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
        cursor.execute("SHOW shared_buffers")
        sb = cursor.fetchone()[0]
    rv = redis.Redis.from_url(f"{REDIS}/0").info("server")["redis_version"]
    return (
        f"{os.cpu_count()} cores ({cpu}), {ram:.0f} GiB RAM, Linux {platform.release()}; "
        f"PostgreSQL {pg} (shared_buffers {sb}), Redis {rv}, all on loopback; "
        f"Python {platform.python_version()}, Django {django.get_version()}"
    )


def fmt_carga(c: tuple[float, float, float]) -> str:
    """Load averages as ``a / b / c``."""
    return " / ".join(f"{x:.2f}" for x in c)


def percentil(valores: list[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank) of ``valores``."""
    ordenados = sorted(valores)
    if not ordenados:
        return float("nan")
    k = max(0, min(len(ordenados) - 1, round(p / 100 * len(ordenados) + 0.5) - 1))
    return ordenados[k]


def agora_texto() -> str:
    """Local date and time, for the report."""
    return datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
