"""deploy/systemd/: units systemd accepts, with the settings docs/DEPLOY.md relies on."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

PASTA = Path(settings.BASE_DIR) / "deploy" / "systemd"
UNIDADES = sorted(PASTA.glob("*.service"))


def _servico(unidade: Path) -> configparser.SectionProxy:
    leitor = configparser.ConfigParser(strict=False, interpolation=None)
    leitor.optionxform = str  # systemd keys are case-sensitive
    leitor.read(unidade)
    return leitor["Service"]


def test_every_process_has_a_unit():
    assert [u.name for u in UNIDADES] == [
        "nexkodonto-beat.service",
        "nexkodonto-web.service",
        "nexkodonto-worker.service",
        "nexkodonto-worker@.service",
    ]


@pytest.mark.parametrize("unidade", UNIDADES, ids=lambda u: u.name)
def test_each_unit_runs_in_the_project_with_the_environment_file_and_restarts(unidade):
    servico = _servico(unidade)
    # gunicorn reads ./gunicorn.conf.py, manage.py ./.env: the project root.
    assert servico["WorkingDirectory"] == "/opt/nexkodonto"
    assert servico["EnvironmentFile"] == "/etc/nexkodonto/producao.env"
    assert servico["ExecStart"].startswith("/opt/nexkodonto/.venv/bin/")
    assert servico["Restart"] == "always" and int(servico["RestartSec"]) > 0
    # SIGTERM to the main process only: a warm shutdown, not a kill of the pool.
    assert servico["KillMode"] == "mixed"


@pytest.mark.parametrize("nome", ["nexkodonto-worker.service", "nexkodonto-worker@.service"])
def test_a_worker_is_given_longer_than_its_longest_task_to_stop(nome):
    servico = _servico(PASTA / nome)
    assert int(servico["TimeoutStopSec"]) > settings.CELERY_TASK_TIME_LIMIT


def test_the_queue_unit_consumes_its_instance_queue_only():
    assert " -Q %i " in _servico(PASTA / "nexkodonto-worker@.service")["ExecStart"]
    assert " -Q " not in _servico(PASTA / "nexkodonto-worker.service")["ExecStart"]


# It starts systemd-analyze: a process, so marked as the root conftest.py asks.
@pytest.mark.celery_real
@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_analyze_verify_accepts_every_unit_without_a_warning(tmp_path):
    # The units as installed in this checkout: its paths, the example environment.
    for unidade in [*UNIDADES, PASTA / "nexkodonto.target"]:
        texto = unidade.read_text().replace("/opt/nexkodonto", str(settings.BASE_DIR))
        texto = texto.replace(
            "/etc/nexkodonto/producao.env",
            str(Path(settings.BASE_DIR) / "deploy" / "producao.env.example"),
        )
        (tmp_path / unidade.name).write_text(texto)
    # A template is verified through an instance of it.
    shutil.copy(
        tmp_path / "nexkodonto-worker@.service", tmp_path / "nexkodonto-worker@varredura.service"
    )
    arquivos = sorted(str(p) for p in tmp_path.iterdir() if p.name != "nexkodonto-worker@.service")
    feito = subprocess.run(
        ["systemd-analyze", "verify", *arquivos], capture_output=True, text=True, timeout=60
    )
    # verify exits 0 on an unknown key or a bad value ("ignoring"): any output is a failure.
    assert (feito.returncode, feito.stdout + feito.stderr) == (0, "")
