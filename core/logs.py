"""One logging set-up for web, worker, beat and the launcher (``settings.LOGGING``).

What is here, and why it lives outside ``settings.py``:

- ``FormatoTexto`` and ``FormatoJson``: one line per record, times in ISO 8601
  in the clinic's ``TIME_ZONE`` with its offset (``2026-12-02T09:15:03.412-03:00``),
  the same keys in every process. JSON is python-json-logger's formatter
  restricted to a fixed list of keys: an ``extra`` a library attaches
  (Django's ``request``, whose repr holds the query string; Celery's ``data``,
  which holds task arguments) never reaches the output.
- ``ContextoDoLog``: a filter that puts the request id (django-guid's
  context variable), and the task name, task id and appointment id of the
  task running in this process, on every record.
- ``tarefa_iniciada`` / ``tarefa_terminada``: Celery's ``task_prerun`` and
  ``task_postrun`` handlers that set and clear that task context.
- ``configurar_logging_do_celery``: Celery's ``setup_logging`` handler, so
  worker and beat keep ``settings.LOGGING`` instead of Celery's own set-up
  (https://docs.celeryq.dev/en/stable/userguide/signals.html#setup-logging).
- ``LoggerGunicorn``: gunicorn's access line as a structured record (method,
  path without its query string, status, bytes, duration, request id).

Nothing here needs Django's apps to be loaded: the launcher configures
logging with ``logging.config.dictConfig(settings.LOGGING)`` before any
``django.setup()``.

Exception texts of database and validation errors are withheld from
tracebacks: PostgreSQL's ``DETAIL`` quotes the row's values ("Failing row
contains (…)", "Key (cpf)=(…) already exists"), which may be a patient's data.
"""

from __future__ import annotations

import inspect
import logging
import logging.config
import re
import traceback
from contextvars import ContextVar
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from celery.signals import (
    before_task_publish,
    celeryd_init,
    setup_logging,
    task_postrun,
    task_prerun,
)
from gunicorn.glogging import Logger as _GunicornLogger
from pythonjsonlogger.json import JsonFormatter

# The context keys, in the order they appear in a text line.
CHAVES_DE_CONTEXTO = ("request_id", "task_name", "task_id", "agendamento_id")
# gunicorn's access record (LoggerGunicorn).
CHAVES_DE_ACESSO = ("method", "path", "status", "bytes", "duration_ms", "remote_addr")
# Every key a JSON line may have; anything else on a record is dropped.
CHAVES_JSON = (
    ("time", "level", "logger", "process", "message")
    + CHAVES_DE_CONTEXTO
    + CHAVES_DE_ACESSO
    + ("status_code", "exc_info", "stack_info")
)

TEXTO_RETIDO = "<text withheld: database and validation errors may quote a row's values>"

# The task this process (or thread) is running: {"task_name", "task_id", "agendamento_id"}.
_tarefa: ContextVar[dict[str, Any] | None] = ContextVar("nexkodonto_tarefa", default=None)
_tokens: dict[str, Any] = {}


# --- formatters ------------------------------------------------------------------
def _cita_valores(tipo: type) -> bool:
    """True for exception types whose text may quote row values (database, validation errors)."""
    for classe in tipo.__mro__:
        modulo = classe.__module__ or ""
        if modulo.startswith(("psycopg", "sqlite3", "django.db")) and classe.__name__.endswith(
            "Error"
        ):
            return True
        if classe.__name__ == "ValidationError" and modulo.startswith(
            ("django.core", "rest_framework")
        ):
            return True
    return False


def _cadeia(exc: BaseException | None):
    vistos = set()
    while exc is not None and id(exc) not in vistos:
        vistos.add(id(exc))
        yield exc
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)


def excecao_sem_valores(exc: BaseException | None) -> bool:
    """True when ``exc`` or an exception in its chain is a database or validation error."""
    return any(_cita_valores(type(e)) for e in _cadeia(exc))


def formatar_excecao(ei) -> str:
    """The traceback of ``ei`` (an ``exc_info`` tuple), database/validation error texts withheld.

    Frames and exception types stay (they say where it failed); only the
    message of an exception that may quote row values is replaced.
    """
    te = traceback.TracebackException(ei[0], ei[1], ei[2], compact=True)
    pendentes, vistos = [te], set()
    while pendentes:
        atual = pendentes.pop()
        if id(atual) in vistos:
            continue
        vistos.add(id(atual))
        if isinstance(atual.exc_type, type) and _cita_valores(atual.exc_type):
            atual._str = TEXTO_RETIDO  # what format_exception_only prints after the type
        pendentes += [e for e in (atual.__cause__, atual.__context__) if e is not None]
    return "".join(te.format()).rstrip("\n")


class _HoraNoFuso:
    """formatTime in ISO 8601, milliseconds, in one zone (``fuso``, an IANA name)."""

    fuso: ZoneInfo

    def formatTime(self, record, datefmt=None):  # noqa: N802 (logging's name)
        return datetime.fromtimestamp(record.created, tz=self.fuso).isoformat(
            timespec="milliseconds"
        )

    def formatException(self, ei):  # noqa: N802
        try:
            return formatar_excecao(ei)
        except Exception:  # never lose the record over its traceback
            return f"{getattr(ei[0], '__name__', ei[0])}: {TEXTO_RETIDO}"


class FormatoTexto(_HoraNoFuso, logging.Formatter):
    """``<time> <LEVEL> <logger> [<pid>] [request_id=… task_name=…] <message>``, for a terminal."""

    def __init__(self, fuso: str = "UTC") -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(process)d]%(contexto)s %(message)s")
        self.fuso = ZoneInfo(fuso)

    def format(self, record):
        pares = [
            f"{chave}={getattr(record, chave)}"
            for chave in CHAVES_DE_CONTEXTO
            if getattr(record, chave, None) is not None
        ]
        record.contexto = f" [{' '.join(pares)}]" if pares else ""
        # Another handler's formatter may have cached the traceback unredacted.
        record.exc_text = None
        return super().format(record)


class FormatoJson(_HoraNoFuso, JsonFormatter):
    """One JSON object per line, with the keys of ``CHAVES_JSON`` only (python-json-logger).

    Always ``time``, ``level``, ``logger``, ``process``, ``message``; the
    context keys when set; gunicorn's access keys on its access records.
    https://nhairs.github.io/python-json-logger/latest/
    """

    def __init__(self, fuso: str = "UTC") -> None:
        super().__init__(
            ["asctime", "levelname", "name", "process", "message"],
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            json_ensure_ascii=False,
        )
        self.fuso = ZoneInfo(fuso)

    def process_log_record(self, log_data):
        return {
            chave: log_data[chave]
            for chave in CHAVES_JSON
            if chave in log_data and (log_data[chave] is not None or chave == "message")
        }


# --- secrets in paths ------------------------------------------------------------------
# A reminder's confirmation link (apps.lembretes, /confirmar/<token>/) is a
# credential: whoever holds a live one can confirm or cancel for the patient.
# Django's own loggers (django.request on a 4xx, django.security.csrf) and
# gunicorn's access line name the request's path; the token never reaches a log.
_TOKEN_NO_CAMINHO = re.compile(r"(/confirmar/)[^/\s\"'?#]+")
TOKEN_OCULTO = "<token>"


def sem_tokens(texto: str) -> str:
    """``texto`` with every ``/confirmar/<token>`` path segment's token replaced by ``<token>``."""
    return _TOKEN_NO_CAMINHO.sub(rf"\g<1>{TOKEN_OCULTO}", texto)


def _ocultar_tokens(record: logging.LogRecord) -> None:
    try:
        mensagem = record.getMessage()
    except Exception:  # a malformed record: logging reports it itself
        return
    if "/confirmar/" in mensagem:
        record.msg, record.args = sem_tokens(mensagem), None
    caminho = getattr(record, "path", None)
    if isinstance(caminho, str) and "/confirmar/" in caminho:
        record.path = sem_tokens(caminho)


# --- context: request id and task ------------------------------------------------
class ContextoDoLog(logging.Filter):
    """Adds ``request_id``, ``task_name``, ``task_id`` and ``agendamento_id`` to every record.

    The request id is django-guid's (set by its middleware from a valid
    incoming ``X-Request-ID``, or a new one); the task keys come from the
    task this process is running (``tarefa_iniciada``), or, on the worker's
    own lines about a task ("received"), from the task Celery names in the
    record. Also withholds the exception text Celery writes into a failed
    task's message when it is a database or validation error, and the token
    of a confirmation link in any message or access-line path (:func:`sem_tokens`).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = _request_id()
        tarefa = _tarefa.get() or _tarefa_do_registro(record)
        for chave in CHAVES_DE_CONTEXTO:
            if getattr(record, chave, None) is None:
                setattr(record, chave, tarefa.get(chave))
        if (
            record.exc_info
            and isinstance(record.args, dict)
            and "exc" in record.args
            and excecao_sem_valores(record.exc_info[1])
        ):
            record.args = {**record.args, "exc": TEXTO_RETIDO}
        _ocultar_tokens(record)
        return True


def _request_id() -> str | None:
    try:
        from django_guid.context import guid
    except ImportError:  # django-guid is a dependency; keep logging alive without it
        return None
    return guid.get()


def _tarefa_do_registro(record: logging.LogRecord) -> dict[str, Any]:
    """Task name and id from Celery's own records (``extra={"data": {"id", "name"}}``)."""
    dados = getattr(record, "data", None)
    if isinstance(dados, dict) and dados.get("id") and dados.get("name"):
        return {"task_name": dados["name"], "task_id": dados["id"]}
    return {}


def _agendamento_id(task, args, kwargs) -> Any:
    """The value of the task's ``agendamento_id`` parameter, if it has one."""
    try:
        ligados = inspect.signature(task.run).bind_partial(*(args or ()), **(kwargs or {}))
    except (TypeError, ValueError):
        return None
    valor = ligados.arguments.get("agendamento_id")
    return valor if isinstance(valor, int | str) else None


@task_prerun.connect(dispatch_uid="core.logs.tarefa_iniciada")
def tarefa_iniciada(task_id=None, task=None, args=None, kwargs=None, **_) -> None:
    """task_prerun: every record until task_postrun carries this task's name, id, appointment."""
    contexto = {
        "task_name": getattr(task, "name", None),
        "task_id": task_id,
        "agendamento_id": _agendamento_id(task, args, kwargs) if task is not None else None,
        # The request that published it (_request_id_na_mensagem), if any.
        "request_id": getattr(getattr(task, "request", None), "request_id", None),
    }
    if task_id:
        _tokens[task_id] = _tarefa.set(contexto)


@before_task_publish.connect(dispatch_uid="core.logs.request_id_na_mensagem")
def _request_id_na_mensagem(headers=None, **_) -> None:
    """before_task_publish: a task published while serving a request carries its request id.

    A message header (Celery's task.request exposes it), so the task's lines
    can be found from the request that booked the appointment.
    """
    rid = _request_id()
    if rid and isinstance(headers, dict):
        headers.setdefault("request_id", rid)


@task_postrun.connect(dispatch_uid="core.logs.tarefa_terminada")
def tarefa_terminada(task_id=None, **_) -> None:
    """task_postrun: back to the context before the task (none, or the eager caller's task)."""
    token = _tokens.pop(task_id, None)
    if token is None:
        return
    try:
        _tarefa.reset(token)
    except ValueError:  # set in another context (another thread): just clear
        _tarefa.set(None)


@setup_logging.connect(dispatch_uid="core.logs.configurar_logging_do_celery")
def configurar_logging_do_celery(**_) -> None:
    """Celery's setup_logging: worker and beat use ``settings.LOGGING``, not Celery's handlers.

    A receiver on this signal makes Celery skip its own configuration
    (root handler, task formatter, stdout redirection); ``--loglevel`` is then
    ignored: ``LOG_LEVEL`` decides.
    """
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    logging.captureWarnings(True)


@celeryd_init.connect(dispatch_uid="core.logs.logging_antes_do_worker")
def logging_antes_do_worker(**_) -> None:
    """celeryd_init (before the worker checks its privileges): its warnings as log lines too.

    Celery warns, through ``warnings``, about a worker running as root before
    it configures logging; configured here, that warning is one record.
    """
    configurar_logging_do_celery()


# --- gunicorn ----------------------------------------------------------------------
class LoggerGunicorn(_GunicornLogger):
    """gunicorn's logger, with the access line as a record with fields (``logger_class``).

    Message ``GET /api/pacientes/ 200 12.3ms``; fields ``method``, ``path``
    (``PATH_INFO``: never the query string, where searches by name or CPF
    go), ``status``, ``bytes``, ``duration_ms``, ``remote_addr`` and the
    ``request_id`` the answer carries in ``X-Request-ID``.
    https://docs.gunicorn.org/en/stable/settings.html#logger-class
    """

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        try:
            status = resp.status
            if isinstance(status, str):
                status = status.split(None, 1)[0]
            cabecalhos = dict((k.lower(), v) for k, v in (resp.headers or []))
            extra = {
                "method": environ.get("REQUEST_METHOD"),
                "path": environ.get("PATH_INFO"),
                "status": int(status),
                "bytes": getattr(resp, "sent", None),
                "duration_ms": round(request_time.total_seconds() * 1000, 1),
                "remote_addr": environ.get("REMOTE_ADDR"),
                "request_id": cabecalhos.get("x-request-id") or _request_id(),
            }
            self.access_log.info(
                "%s %s %s %sms",
                extra["method"],
                extra["path"],
                extra["status"],
                extra["duration_ms"],
                extra=extra,
            )
        except Exception:
            self.error(traceback.format_exc())
