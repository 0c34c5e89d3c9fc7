"""A run over the demo data (``manage.py demo``): two and a half days of the finder, every 5 min.

The default rules (24 h and 2 h before, by e-mail) and the embedded default's
file e-mail backend: each of the demo's two future appointments gets one
message per rule, written under the e-mail directory; the three past ones get
none. Prints the counts by rule and situation (``-s`` shows them).
"""

from __future__ import annotations

import importlib
from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from django.apps import apps as registro
from django.core.management import call_command

from apps.clinic.tests.relogio import AGORA
from apps.lembretes import services
from apps.lembretes.models import Lembrete, RegraLembrete

pytestmark = pytest.mark.django_db


def test_a_demo_run_sends_one_message_per_rule_per_future_appointment(
    settings, tmp_path, django_capture_on_commit_callbacks, capsys
):
    settings.VAR_DIR = tmp_path
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mensagens")
    Lembrete.objects.all().delete()
    RegraLembrete.objects.all().delete()
    importlib.import_module("apps.lembretes.migrations.0002_regras_padrao").criar(registro, None)

    with time_machine.travel(AGORA, tick=False) as viagem:
        call_command("demo")
        instante = AGORA
        while instante <= AGORA + timedelta(hours=54):
            viagem.move_to(instante)
            publicados: list[int] = []
            with django_capture_on_commit_callbacks(execute=True):
                services.buscar_devidos(now=instante, publicar=publicados.extend)
            for lembrete_id in publicados:
                services.lembrete_enviar(lembrete_id, now=instante)
            instante += timedelta(minutes=5)

    contagem = Counter(
        (regra, situacao, motivo)
        for regra, situacao, motivo in Lembrete.objects.values_list(
            "regra__nome", "situacao", "motivo"
        )
    )
    arquivos = sorted((tmp_path / "mensagens").iterdir())
    with capsys.disabled():
        print("\ndemo run (AGORA .. +54 h, finder every 5 min):")
        for (regra, situacao, motivo), n in sorted(contagem.items()):
            print(f"  {regra:15} {situacao:9} {motivo or '-':20} {n}")
        print(f"  message files written: {len(arquivos)}")
    assert contagem == {
        ("24 horas antes", "enviado", ""): 2,
        ("2 horas antes", "enviado", ""): 2,
    }
    textos = [arquivo.read_text() for arquivo in arquivos]
    assert len(textos) == 4
    assert all("/confirmar/" in texto and "Olá, Paciente!" in texto for texto in textos)
    # Thursday 14:00 is Paciente Demo 1's, Friday 16:00 Paciente Demo 2's.
    destinos = Counter(
        linha for texto in textos for linha in texto.splitlines() if linha.startswith("To: ")
    )
    assert destinos == {"To: paciente.demo1@example.com": 2, "To: paciente.demo2@example.org": 2}
