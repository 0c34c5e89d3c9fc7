"""The Celery application.

Configuration lives in ``core/settings.py`` under the ``CELERY_`` namespace;
see https://docs.celeryq.dev/en/stable/django/first-steps-with-django.html
"""

import os

from celery import Celery
from celery.signals import task_prerun

from core import (
    broker,
    logs,  # noqa: F401  (settings.LOGGING in worker and beat; task context on records)
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings")
# A broker blip while a task runs must not kill the worker (see core/broker.py).
broker.instalar()

app = Celery("core")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def cancelamento_conforme_o_broker(sender: Celery, **kwargs) -> None:
    """Redis: a running task survives a broker blip; RabbitMQ: it is cancelled (core/broker.py)."""
    sender.conf.worker_cancel_long_running_tasks_on_connection_loss = (
        broker.cancelar_ao_perder_conexao(str(sender.conf.broker_url or ""))
    )


@task_prerun.connect
def conexoes_verificadas(task=None, **kwargs) -> None:
    """Before each task: drop obsolete or broken DB connections, re-arm health checks.

    Django does this around each web request; a worker must do it around
    tasks. ``close_old_connections`` closes a connection older than
    CONN_MAX_AGE or left in error, and makes the next query first ping a
    reused one (CONN_HEALTH_CHECKS), reconnecting if the server dropped it.
    https://docs.djangoproject.com/en/5.2/ref/databases/#persistent-connections
    """
    from django.db import close_old_connections

    if task is not None and getattr(task.request, "is_eager", False):
        return  # run in the caller's process: its connection is the caller's business
    close_old_connections()
