"""Time limits of the PostgreSQL sessions of worker processes and web requests.

A Celery task killed by its soft time limit while blocked in a query (waiting
for a lock, or a slow statement) leaves that query running on the server,
holding the locks its transaction took: the soft limit raises in Python, but
psycopg does not cancel the statement, and a pool process killed by the hard
limit only closes its socket, which the server notices when it next writes to
the client. A server-side ``statement_timeout`` below the soft limit makes
PostgreSQL cancel the statement itself, before the limit strikes; the task
then fails with ``OperationalError`` (``QueryCanceled``) and its transaction
is rolled back. ``idle_in_transaction_session_timeout`` ends a worker session
left idle inside a transaction for as long (a process stuck between two
statements); no task of the project waits on anything but the database inside
a transaction, so it never strikes a healthy task.

Web requests get their own, shorter ``statement_timeout``
(``BD_TEMPO_LIMITE_WEB_SEGUNDOS``, 25 s by default): gunicorn kills a worker
that has not answered in 30 s (its default ``--timeout``), which would leave
the request's query running just the same; cancelled first, the request
answers 503 with ``Retry-After`` (core/middleware.py) instead of a dropped
connection. Management commands (``migrate``, imports) and Celery Beat keep
the server's defaults: a migration on a large table may legitimately run for
minutes.

Where: one ``connection_created`` receiver, which sets the values with
``set_config`` (one round trip) on every new connection of a worker process
(this module is in ``CELERY_IMPORTS``: the worker imports it before sending
``worker_init``, which arms it before the pool forks) or opened while a web
request is being served (``core.middleware.BancoIndisponivelMiddleware`` marks
the request). It also names the session (``application_name``:
``nexkodonto-worker`` / ``nexkodonto-web``) so ``pg_stat_activity`` shows which
process a query belongs to. SQLite has no statement timeout (nothing runs on
a server after its process dies); its busy timeout (``OPTIONS["timeout"]``,
20 s) bounds the wait for the write lock and is checked at start-up to be
below the soft limit too.
https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-STATEMENT-TIMEOUT
https://docs.djangoproject.com/en/5.2/ref/signals/#connection-created
"""

from __future__ import annotations

import contextvars
import logging

from celery.signals import worker_init
from django.conf import settings
from django.db.backends.signals import connection_created

logger = logging.getLogger(__name__)

NOME_WORKER = "nexkodonto-worker"
NOME_WEB = "nexkodonto-web"

# True while a web request is served (set by the middleware).
em_requisicao: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "nexkodonto_em_requisicao", default=False
)
_processo = {"worker": False}


def parametros_worker() -> dict[str, str]:
    """Session settings of a worker's connections: PostgreSQL parameter → value (ms as text)."""
    ms = str(settings.BD_TEMPO_LIMITE_WORKER_SEGUNDOS * 1000)
    return {
        "statement_timeout": ms,
        "idle_in_transaction_session_timeout": ms,
        "application_name": NOME_WORKER,
    }


def parametros_web() -> dict[str, str]:
    """Session settings of a connection opened by a web request (``0`` ms: no limit)."""
    return {
        "statement_timeout": str(settings.BD_TEMPO_LIMITE_WEB_SEGUNDOS * 1000),
        "application_name": NOME_WEB,
    }


def aplicar(conexao, parametros: dict[str, str]) -> None:
    """Set ``parametros`` for the whole session of ``conexao`` (a Django DatabaseWrapper).

    ``set_config(name, value, false)``: session-wide, in one statement. Runs
    right after the connection is made, in autocommit, so no later rollback
    undoes it. PostgreSQL only.
    """
    chamadas = ", ".join(["set_config(%s, %s, false)"] * len(parametros))
    valores = [parte for par in parametros.items() for parte in par]
    with conexao.cursor() as cursor:
        cursor.execute(f"SELECT {chamadas}", valores)


def _ao_conectar(sender, connection, **kwargs) -> None:
    if connection.vendor != "postgresql":
        return
    if _processo["worker"]:
        aplicar(connection, parametros_worker())
    elif em_requisicao.get():
        aplicar(connection, parametros_web())


def _no_worker(sender=None, **kwargs) -> None:
    """worker_init: from now on, this process and its pool children are a worker."""
    from django.db import connections

    _processo["worker"] = True
    # A connection opened before (Django's checks) would keep the defaults.
    connections.close_all()
    logger.info(
        "worker database sessions: statement_timeout %d s (soft time limit %d s)",
        settings.BD_TEMPO_LIMITE_WORKER_SEGUNDOS,
        settings.CELERY_TASK_SOFT_TIME_LIMIT,
    )


connection_created.connect(_ao_conectar, dispatch_uid="nexkodonto.db_timeouts")
worker_init.connect(_no_worker, dispatch_uid="nexkodonto.db_timeouts.worker")
