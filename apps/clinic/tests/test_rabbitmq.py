"""BROKER_URL: RabbitMQ as the Celery broker (docs/DEPLOY.md, "RabbitMQ").

The Celery integration tests themselves run on the machine's RabbitMQ in CI's
RabbitMQ pass (.ci/run); these check what does not need a RabbitMQ running.
"""

import json
import subprocess
import sys

import pytest

from apps.clinic.models import Agendamento

from .support import BASE_DIR, porta_livre, process_env
from .test_broker_fora import SALVAR

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_real]

CONFIGURACAO = """
import json
from django.conf import settings
from core.celery import app
print(json.dumps({
    "broker": app.conf.broker_url,
    "opcoes": app.conf.broker_transport_options,
    "resultados": app.conf.result_backend,
    "cache": settings.CACHES["default"]["LOCATION"],
}))
"""


def _shell(script: str, env: dict) -> subprocess.CompletedProcess:
    feito = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert feito.returncode == 0, feito.stderr
    return feito


def _configuracao(**env) -> dict:
    feito = _shell(CONFIGURACAO, process_env(redis_url="redis://127.0.0.1:6399/3", **env))
    return json.loads(feito.stdout.strip().splitlines()[-1])


def test_broker_url_moves_only_the_broker_and_drops_the_redis_transport_options():
    rabbit = "amqp://nexkodonto:senha@rabbit.invalid:5672/nexkodonto"
    conf = _configuracao(BROKER_URL=rabbit)
    assert conf["broker"] == rabbit
    # visibility_timeout and the socket options are the Redis transport's.
    assert conf["opcoes"] == {"confirm_publish": True}
    # Results, the cache (and the sweep's lock, on the same URL) stay on Redis.
    assert conf["resultados"] == "redis://127.0.0.1:6399/3"
    assert conf["cache"] == "redis://127.0.0.1:6399/3"


def test_without_broker_url_the_broker_is_redis_url():
    conf = _configuracao()
    assert conf["broker"] == "redis://127.0.0.1:6399/3"
    assert "visibility_timeout" in conf["opcoes"]


def test_with_rabbitmq_unreachable_a_save_returns_quickly_and_logs_the_id_only(redis_url):
    env = process_env(
        redis_url=redis_url, BROKER_URL=f"amqp://guest:guest@127.0.0.1:{porta_livre()}//"
    )
    feito = _shell(SALVAR, env)
    resultado = json.loads(feito.stdout.strip().splitlines()[-1])
    print(f"save with RabbitMQ unreachable: {resultado['segundos']:.3f} s")
    assert resultado["segundos"] < 2.0
    assert Agendamento.objects.get(pk=resultado["id"]).active
    assert f"could not enqueue closing of appointment {resultado['id']}" in feito.stderr
    assert "Joana" not in feito.stderr
