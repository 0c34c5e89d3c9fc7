"""Several processes closing the same due rows at once: exactly one visit record each."""

import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db.models import Count
from django.utils import timezone

from apps.clinic.models import Agendamento, Atendimento, HistoricoStatus

from .factories import DentistaFactory, PacienteFactory
from .support import BASE_DIR, process_env, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_real]

N = 2000

ESPERAR = """
import os, pathlib, time
pathlib.Path(os.environ["PRONTO"]).touch()
while not pathlib.Path(os.environ["LARGADA"]).exists():
    time.sleep(0.01)
"""
VARREDURA = (
    ESPERAR
    + """
from django.utils import timezone
from apps.clinic.services import finalizar_agendamentos_vencidos
print("FECHADOS", finalizar_agendamentos_vencidos(now=timezone.now(), tamanho_lote=50))
"""
)
UM_A_UM = (
    ESPERAR
    + """
from apps.clinic.models import Agendamento
from apps.clinic.tasks import processar_agendamento_especifico
ids = list(Agendamento.objects.order_by(os.environ["ORDEM"]).values_list("id", flat=True))
print("FECHADOS", sum(bool(processar_agendamento_especifico.apply(args=[i]).get()) for i in ids))
"""
)


def test_sweeps_and_single_tasks_racing_close_each_row_exactly_once(tmp_path: Path, redis_url):
    import subprocess

    paciente, dentista = PacienteFactory(), DentistaFactory()
    inicio = timezone.now() - timedelta(days=60)
    Agendamento.objects.bulk_create(
        Agendamento(
            paciente=paciente, dentista=dentista, data_hora=inicio + timedelta(minutes=30 * i)
        )
        for i in range(N)
    )
    largada = tmp_path / "largada"
    scripts = [
        ("varredura-1", VARREDURA, "id"),
        ("varredura-2", VARREDURA, "id"),
        ("um-a-um-asc", UM_A_UM, "id"),
        ("um-a-um-desc", UM_A_UM, "-id"),
    ]
    procs = []
    for nome, codigo, ordem in scripts:
        env = process_env(
            redis_url=redis_url,
            PRONTO=str(tmp_path / f"pronto-{nome}"),
            LARGADA=str(largada),
            ORDEM=ordem,
        )
        procs.append(
            subprocess.Popen(
                [sys.executable, "manage.py", "shell", "-c", codigo],
                cwd=BASE_DIR,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    wait_until(
        lambda: all((tmp_path / f"pronto-{n}").exists() for n, _, _ in scripts),
        timeout=60,
        what="all processes to be ready",
    )
    largada.touch()  # all start together
    saidas = [p.communicate(timeout=300) for p in procs]

    for (nome, _, _), p, (_out, err) in zip(scripts, procs, saidas, strict=True):
        assert p.returncode == 0, f"{nome} failed:\n{err[-3000:]}"
        assert "Traceback" not in err and "IntegrityError" not in err, err[-3000:]
    # Every close was counted by exactly one process...
    fechados = [int(out.split("FECHADOS")[1]) for out, _ in saidas]
    assert sum(fechados) == N, fechados
    # ...and each row ended with one visit record and one closing in its history.
    assert Agendamento.objects.filter(active=True).count() == 0
    assert Atendimento.objects.count() == N
    assert not Atendimento.objects.values("agendamento").annotate(n=Count("id")).filter(n__gt=1)
    assert HistoricoStatus.objects.filter(status_novo="concluido").count() == N
