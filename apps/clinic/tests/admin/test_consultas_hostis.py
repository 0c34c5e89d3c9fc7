"""The admin's address bar is input too: a hostile query string is refused, never a 500.

Found by the break-it review of issue 9: the date drill-down of the schedule
overflowed at year 9999, and on PostgreSQL a NUL in a filter or a search was
a DataError ("text fields cannot contain NUL"), each a 500 with a traceback.
"""

import pytest

CONSULTAS = [
    "/admin/clinic/agendamento/?data_hora__year=9999",
    "/admin/clinic/agendamento/?data_hora__year=9999&data_hora__month=12&data_hora__day=31",
    "/admin/clinic/agendamento/?data_hora__year=2026&data_hora__month=12&data_hora__day=99",
    "/admin/clinic/agendamento/?data_hora__year=99999999999",
    "/admin/clinic/agendamento/?data_hora__year=x",
    # "²" passes str.isdigit() and int() refuses it (issue 12's break-it review).
    "/admin/clinic/agendamento/?data_hora__year=%C2%B2",
    "/admin/clinic/agendamento/?data_hora__year=2026&data_hora__month=%C2%B2",
    "/admin/expediente/fechamento/?data_inicio__year=2026&data_inicio__day=%C2%B2",
    "/admin/clinic/agendamento/?status__exact=%00",
    "/admin/clinic/agendamento/?q=%00",
    "/admin/clinic/paciente/?nome=%00",
    "/admin/clinic/paciente/?cpf__startswith=%00",
    "/admin/autocomplete/?app_label=clinic&model_name=agendamento&field_name=paciente&term=%00",
    # The working hours' drill-downs (issue 12's break-it review: the same overflow).
    "/admin/expediente/ausencia/?data_inicio__year=9999&data_inicio__month=12",
    "/admin/expediente/ausencia/?data_inicio__year=99999999999",
    "/admin/expediente/fechamento/?data_inicio__year=9999&data_inicio__month=12&data_inicio__day=31",
    "/admin/expediente/diaextra/?data__year=9999&data__month=12&data__day=31",
    "/admin/expediente/diaextra/?data__year=2026&data__month=13",
]


@pytest.mark.parametrize("papel", ["recepcao", "usuario_a", "superusuario"])
@pytest.mark.parametrize("consulta", CONSULTAS)
def test_a_hostile_query_string_in_the_admin_is_refused_not_a_500(clinica, como, papel, consulta):
    resposta = como(getattr(clinica, papel)).get(consulta)

    # 400 (refused), 302 to "?e=1" (Django's own answer to a bad lookup) or
    # 403/404 where the role has no such page; never an exception.
    assert resposta.status_code in {302, 400, 403, 404}, resposta.status_code
    if resposta.status_code == 302:
        assert resposta["Location"].endswith("?e=1")


def test_a_valid_drill_down_still_works(clinica, como):
    resposta = como(clinica.recepcao).get(
        "/admin/clinic/agendamento/?data_hora__year=2026&data_hora__month=12&data_hora__day=2"
    )
    assert resposta.status_code == 200
    resposta = como(clinica.recepcao).get("/admin/expediente/fechamento/?data_inicio__year=2026")
    assert resposta.status_code == 200
