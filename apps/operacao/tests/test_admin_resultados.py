# ruff: noqa: F811  (the clinic's admin fixtures are imported, then named as test arguments)
"""The task results page of the admin: the gestor's, read-only; recepcao and dentista never.

Rows are written as Celery's database result backend writes them (the real
worker's rows are checked in apps/clinic/tests/test_resultados_tarefas.py).
"""

import pytest
from django_celery_results.models import TaskResult

# The clinic's admin fixtures (staff users by role, logged-in clients, the
# stopped clock): this app's admin is tested like the clinic's.
from apps.clinic.tests.admin.conftest import clinica, como, relogio  # noqa: F401

LISTA = "/admin/django_celery_results/taskresult/"
UM = "apps.clinic.tasks.processar_agendamento_especifico"
VARREDURA = "apps.clinic.tasks.verificar_e_finalizar_agendamentos_passados"


@pytest.fixture
def resultados(clinica):
    return [
        TaskResult.objects.create(
            task_id="fechamento-1",
            task_name=UM,
            task_args=f'"({clinica.a_vencido.pk},)"',
            task_kwargs='"{}"',
            status="SUCCESS",
            result="true",
            worker="celery@clinica",
        ),
        TaskResult.objects.create(
            task_id="varredura-1",
            task_name=VARREDURA,
            periodic_task_name="Finalizar agendamentos vencidos",
            task_args='"()"',
            task_kwargs='"{}"',
            status="SUCCESS",
            result="1240",
        ),
    ]


def test_the_gestor_sees_the_closing_tasks_outcomes(clinica, como, resultados):
    navegador = como(clinica.gestor)

    lista = navegador.get(LISTA)
    assert lista.status_code == 200
    pagina = lista.content.decode()
    assert "Fechamento de um agendamento" in pagina and "Varredura" in pagina
    assert "1240" in pagina  # the sweep's count
    assert f">{clinica.a_vencido.pk}<" in pagina  # the appointment the close was for
    # The detail page and the admin's index link.
    assert navegador.get(f"{LISTA}{resultados[0].pk}/change/").status_code == 200
    assert LISTA in navegador.get("/admin/").content.decode()


def test_a_superuser_sees_them_too(clinica, como, resultados):
    assert como(clinica.superusuario).get(LISTA).status_code == 200


@pytest.mark.parametrize("papel", ["recepcao", "usuario_a", "usuario_b"])
def test_recepcao_and_dentistas_neither_see_nor_reach_the_results(clinica, como, resultados, papel):
    navegador = como(getattr(clinica, papel))

    assert navegador.get(LISTA).status_code == 403
    assert navegador.get(f"{LISTA}{resultados[0].pk}/change/").status_code == 403
    assert LISTA not in navegador.get("/admin/").content.decode()


@pytest.mark.parametrize("papel", ["gestor", "superusuario"])
def test_nobody_adds_changes_or_deletes_a_result(clinica, como, resultados, papel):
    navegador = como(getattr(clinica, papel))
    alvo = resultados[1]

    assert navegador.get(f"{LISTA}add/").status_code == 403
    resposta = navegador.post(f"{LISTA}{alvo.pk}/change/", {"status": "FAILURE", "result": "0"})
    assert resposta.status_code == 403
    assert navegador.post(f"{LISTA}{alvo.pk}/delete/", {"post": "yes"}).status_code == 403
    resposta = navegador.post(
        LISTA, {"action": "delete_selected", "_selected_action": [alvo.pk], "post": "yes"}
    )
    assert resposta.status_code in {200, 302}
    alvo.refresh_from_db()
    assert (alvo.status, alvo.result) == ("SUCCESS", "1240")
    assert TaskResult.objects.count() == 2


@pytest.mark.parametrize(
    "consulta",
    [
        "?date_done__year=9999",
        "?date_done__year=%C2%B2",  # "²": str.isdigit() says yes, int() raises
        "?date_done__gte=99999-01-01",
        "?status__exact=%00",
        "?q=%00",
    ],
)
def test_a_hostile_query_string_on_the_results_page_is_refused_not_a_500(
    clinica, como, resultados, consulta
):
    resposta = como(clinica.gestor).get(LISTA + consulta)

    assert resposta.status_code in {200, 302, 400}, resposta.status_code
    if resposta.status_code == 302:
        assert resposta["Location"].endswith("?e=1")
