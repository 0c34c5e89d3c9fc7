"""The sweep's run records in the admin: read-only, for the gestor only."""

import pytest
from django.urls import reverse

from apps.clinic.models import ExecucaoVarredura

from .apoio import AGORA

pytestmark = pytest.mark.django_db

LISTA = reverse("admin:clinic_execucaovarredura_changelist")


@pytest.fixture
def execucao(clinica):
    return ExecucaoVarredura.objects.create(
        task_id="tarefa-1", iniciada_em=AGORA, terminada_em=AGORA, fechados=3, ignorados=1
    )


@pytest.mark.parametrize("quem", ["gestor", "superusuario"])
def test_the_gestor_sees_the_runs_and_cannot_change_them(clinica, como, execucao, quem):
    navegador = como(getattr(clinica, quem))

    lista = navegador.get(LISTA)
    assert lista.status_code == 200
    assert "tarefa-1" in lista.content.decode()
    assert LISTA in navegador.get(reverse("admin:index")).content.decode()
    detalhe = navegador.get(reverse("admin:clinic_execucaovarredura_change", args=[execucao.pk]))
    assert detalhe.status_code == 200
    assert 'name="fechados"' not in detalhe.content.decode()  # read-only
    assert navegador.get(reverse("admin:clinic_execucaovarredura_add")).status_code == 403
    apagar = reverse("admin:clinic_execucaovarredura_delete", args=[execucao.pk])
    assert navegador.post(apagar, {"post": "yes"}).status_code == 403
    assert ExecucaoVarredura.objects.filter(pk=execucao.pk).exists()


@pytest.mark.parametrize("quem", ["recepcao", "usuario_a"])
def test_other_roles_do_not_see_the_runs(clinica, como, execucao, quem):
    navegador = como(getattr(clinica, quem))

    assert navegador.get(LISTA).status_code == 403
    assert LISTA not in navegador.get(reverse("admin:index")).content.decode()
