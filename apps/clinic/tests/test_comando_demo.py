"""``manage.py demo`` (what the first ``make run`` runs on an empty database)."""

from __future__ import annotations

from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from apps.clinic.models import Agendamento


@pytest.mark.django_db(transaction=True)
def test_an_interrupted_demo_leaves_nothing_so_the_next_run_creates_it_whole(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    # Interrupted after the users, at the first appointment (a Ctrl-C of the
    # first `make run` kills the command there).
    with (
        mock.patch(
            "apps.clinic.management.commands.demo.services.agendamento_criar",
            side_effect=KeyboardInterrupt,
        ),
        pytest.raises(KeyboardInterrupt),
    ):
        call_command("demo")
    assert not get_user_model().objects.exists()

    call_command("demo")
    assert set(get_user_model().objects.values_list("username", flat=True)) == {
        "demo",
        "recepcao",
        "dentista",
        "gestor",
    }
    assert Agendamento.objects.count() == 5
    assert (tmp_path / "demo_credenciais.txt").read_text().startswith("senha de todos: ")
