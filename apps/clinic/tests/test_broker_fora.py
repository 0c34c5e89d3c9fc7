"""With the broker down, a save still succeeds at once and the sweep closes it later."""

import json
import socket
import subprocess
import sys

import pytest
from django.utils import timezone

from apps.clinic import services
from apps.clinic.models import Agendamento

from .support import BASE_DIR, process_env

# The broker down is a closed Redis port: this tests the Redis transport.
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.celery_real,
    pytest.mark.broker_redis,
]

SALVAR = """
import json, time
from datetime import timedelta
from django.utils import timezone
from apps.clinic import services
from apps.clinic.models import Dentista, Paciente
p = Paciente.objects.create(nome="Joana Confidencial Pereira")
d = Dentista.objects.create(nome="Dr. Teste")
t = time.monotonic()
ag = services.agendamento_criar(paciente=p, dentista=d,
                                data_hora=timezone.now() - timedelta(hours=3),
                                permitir_retroativo=True)
print(json.dumps({"id": ag.pk, "segundos": time.monotonic() - t}))
"""


def _porta_fechada() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when we return: nothing listens


def test_a_save_with_the_broker_down_returns_quickly_and_logs_without_personal_data(redis_url):
    env = process_env(redis_url=f"redis://127.0.0.1:{_porta_fechada()}/0")
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SALVAR],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    resultado = json.loads(done.stdout.strip().splitlines()[-1])
    assert resultado["segundos"] < 2.0
    # Saved, still open, and the failure logged with the id only.
    assert Agendamento.objects.get(pk=resultado["id"]).active
    assert f"could not enqueue closing of appointment {resultado['id']}" in done.stderr
    assert "Joana" not in done.stderr
    # Once the broker is back, the sweep closes it.
    assert services.finalizar_agendamentos_vencidos(now=timezone.now()) == 1
