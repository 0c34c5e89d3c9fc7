"""Project-wide test switch: run the suite with the clock moved (issue 9).

``NEXKODONTO_RELOGIO_TESTES`` set to an ISO-8601 instant with an offset
(``2026-12-02T23:50:00-03:00``) or to a bare local time (``23:50``: today's
date in America/Sao_Paulo at that time) makes every test that is not marked
``celery_real`` run inside ``time_machine.travel(that instant, tick=True)``.
A test that depends on the hour of the real day then fails whatever the hour
the suite runs at; CI runs the suite at 23:50 and at 00:10 this way.

Tests marked ``celery_real`` start real processes (worker, beat, gunicorn,
the launcher, ``manage.py``) that read the machine's clock, which
time-machine cannot move: they keep the real clock, and the moved-clock
passes leave them out with ``-m 'not celery_real'``. While the clock is
moved, an unmarked test that starts any process other than Redis fails,
naming the marker it needs.
"""

from __future__ import annotations

import os
import re
import subprocess
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

# pytester: apps/clinic/tests/test_relogio_testes.py runs sessions with this file.
pytest_plugins = ["pytester"]

VARIAVEL = "NEXKODONTO_RELOGIO_TESTES"
MARCADOR = "celery_real"
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
_INSTANTE = pytest.StashKey[datetime | None]()
_HORA_LOCAL = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


def instante_do_relogio(valor: str) -> datetime:
    """The aware instant that ``valor`` (the switch's text) names.

    ``HH:MM`` or ``HH:MM:SS``: that local time on today's date (the real
    clock's) in America/Sao_Paulo. Otherwise an ISO-8601
    date and time with an offset (``Z`` allowed). Raises ``ValueError`` for
    anything else, naive date-times included (which zone they mean is a guess).
    """
    valor = valor.strip()
    if hora_local := _HORA_LOCAL.fullmatch(valor):
        dia = datetime.now(SAO_PAULO).date()
        hora = time(*(int(parte or 0) for parte in hora_local.groups()))
        return datetime.combine(dia, hora, tzinfo=SAO_PAULO)
    instante = datetime.fromisoformat(valor)
    if instante.tzinfo is None:
        raise ValueError(f"{valor!r} has no offset")
    return instante


def pytest_configure(config: pytest.Config) -> None:
    valor = os.environ.get(VARIAVEL, "")
    instante = None
    if valor.strip():
        try:
            instante = instante_do_relogio(valor)
        except ValueError as erro:
            raise pytest.UsageError(
                f"{VARIAVEL}={valor!r}: expected a local time such as 23:50 or an ISO-8601 "
                f"instant with an offset such as 2026-12-02T23:50:00-03:00 ({erro})"
            ) from None
    config.stash[_INSTANTE] = instante


def pytest_report_header(config: pytest.Config) -> str | None:
    instante = config.stash.get(_INSTANTE, None)
    if instante is None:
        return None
    local = instante.astimezone(SAO_PAULO).isoformat()
    return f"clock moved ({VARIAVEL}): tests not marked {MARCADOR} start at {local}"


def pytest_sessionstart(session: pytest.Session) -> None:
    # -q hides the report header; the moved clock must still show in the log.
    if session.config.get_verbosity() < 0 and (linha := pytest_report_header(session.config)):
        session.config.get_terminal_writer().line(linha)


def _so_redis(test: str, popen_init):
    """``Popen.__init__`` that refuses to start anything but a Redis server."""

    def iniciar(self, args, *posicionais, **nomeados):
        programa = args if isinstance(args, str | os.PathLike) else args[0]
        if not Path(os.fspath(programa)).name.startswith("redis-server"):
            raise RuntimeError(
                f"{test} starts {programa} while {VARIAVEL} moves the clock: a process reads "
                f"the real clock; mark the test {MARCADOR}"
            )
        popen_init(self, args, *posicionais, **nomeados)

    return iniciar


@pytest.fixture(autouse=True)
def _relogio_movido(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """Run the test at the switch's instant (ticking) unless it is marked ``celery_real``."""
    instante = request.config.stash.get(_INSTANTE, None)
    if instante is None or request.node.get_closest_marker(MARCADOR):
        yield
        return
    monkeypatch.setattr(
        subprocess.Popen, "__init__", _so_redis(request.node.nodeid, subprocess.Popen.__init__)
    )
    with time_machine.travel(instante, tick=True):
        yield
