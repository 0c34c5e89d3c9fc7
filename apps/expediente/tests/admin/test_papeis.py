"""The working hours' admin, role by role (the clinic's admin fixtures: two dentists, staff)."""

from datetime import date, time

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from apps.clinic.tests.admin.apoio import texto
from apps.expediente.models import Ausencia, DiaExtra, Fechamento, Jornada
from apps.expediente.permissions import permissoes_garantir

pytestmark = pytest.mark.django_db

PAGINAS = ("jornada", "ausencia", "diaextra", "fechamento")


@pytest.fixture
def horas(clinica):
    """A plan, an absence and an extra day for each dentist, and one clinic closure."""
    linhas = {}
    for letra, dentista in (("a", clinica.dentista_a), ("b", clinica.dentista_b)):
        linhas[f"jornada_{letra}"] = Jornada.objects.create(
            dentista=dentista, dia_semana=0, inicio=time(8), fim=time(12)
        )
        linhas[f"ausencia_{letra}"] = Ausencia.objects.create(
            dentista=dentista,
            tipo="ferias",
            data_inicio=date(2027, 1, 4),
            data_fim=date(2027, 1, 8),
            motivo=f"Viagem {letra.upper()}",
        )
        linhas[f"diaextra_{letra}"] = DiaExtra.objects.create(
            dentista=dentista,
            data=date(2026, 12, 5),
            inicio=time(8),
            fim=time(12),
            motivo=f"Mutirão {letra.upper()}",
        )
    linhas["fechamento"] = Fechamento.objects.create(
        data_inicio=date(2026, 12, 24),
        data_fim=date(2026, 12, 31),
        descricao="Recesso de fim de ano",
    )
    return linhas


def _url(modelo: str, obj=None, acao: str = "") -> str:
    base = f"/admin/expediente/{modelo}/"
    if obj is not None:
        return f"{base}{obj.pk}/{acao or 'change'}/"
    return base + (f"{acao}/" if acao else "")


@pytest.mark.parametrize("quem", ["gestor", "superusuario"])
def test_the_gestor_adds_changes_and_deletes(clinica, como, horas, quem):
    gestor = como(getattr(clinica, quem))
    for modelo in PAGINAS:
        assert gestor.get(_url(modelo)).status_code == 200, modelo
        assert gestor.get(_url(modelo, acao="add")).status_code == 200, modelo

    resposta = gestor.post(
        _url("jornada", acao="add"),
        {"dentista": clinica.dentista_a.pk, "dia_semana": 0, "inicio": "13:00", "fim": "18:00"},
    )
    assert resposta.status_code == 302
    assert Jornada.objects.filter(dentista=clinica.dentista_a, inicio=time(13)).exists()

    resposta = gestor.post(
        _url("fechamento", horas["fechamento"]),
        {"descricao": "Recesso", "data_inicio": "2026-12-24", "data_fim": "2027-01-01"},
    )
    assert resposta.status_code == 302
    horas["fechamento"].refresh_from_db()
    assert horas["fechamento"].data_fim == date(2027, 1, 1)

    resposta = gestor.post(_url("diaextra", horas["diaextra_b"], "delete"), {"post": "yes"})
    assert resposta.status_code == 302
    assert not DiaExtra.objects.filter(pk=horas["diaextra_b"].pk).exists()


def test_the_admin_form_refuses_an_overlap_in_pt_br(clinica, como, horas):
    resposta = como(clinica.gestor).post(
        _url("jornada", acao="add"),
        {"dentista": clinica.dentista_a.pk, "dia_semana": 0, "inicio": "11:00", "fim": "14:00"},
    )
    assert resposta.status_code == 200
    assert "Este intervalo se sobrepõe a outro do mesmo dia da semana." in texto(resposta)
    assert Jornada.objects.filter(dentista=clinica.dentista_a).count() == 1


def test_the_front_desk_sees_everything_and_changes_nothing(clinica, como, horas):
    recepcao = como(clinica.recepcao)
    lista = texto(recepcao.get(_url("ausencia")))
    assert "Viagem A" in lista and "Viagem B" in lista
    for modelo in PAGINAS:
        assert recepcao.get(_url(modelo)).status_code == 200, modelo
        assert recepcao.get(_url(modelo, acao="add")).status_code == 403, modelo
    pagina = recepcao.get(_url("jornada", horas["jornada_a"]))
    assert pagina.status_code == 200 and 'name="_save"' not in texto(pagina)  # read-only
    resposta = recepcao.post(
        _url("jornada", horas["jornada_a"]),
        {"dentista": clinica.dentista_a.pk, "dia_semana": 0, "inicio": "07:00", "fim": "12:00"},
    )
    assert resposta.status_code == 403
    horas["jornada_a"].refresh_from_db()
    assert horas["jornada_a"].inicio == time(8)
    assert recepcao.post(_url("fechamento", horas["fechamento"], "delete")).status_code == 403
    assert Fechamento.objects.exists()


def test_a_dentist_sees_only_their_own_rows_and_the_clinics_closures(clinica, como, horas):
    dentista = como(clinica.usuario_a)

    ausencias = texto(dentista.get(_url("ausencia")))
    extras = texto(dentista.get(_url("diaextra")))
    assert "Viagem A" in ausencias and "Viagem B" not in ausencias
    assert "Mutirão A" in extras and "Mutirão B" not in extras
    # The dentist filter offers only themself.
    jornadas = dentista.get(_url("jornada"))
    assert "Dra. Alice" in texto(jornadas) and "Dr. Bento" not in texto(jornadas)
    assert "Recesso de fim de ano" in texto(dentista.get(_url("fechamento")))

    # Their own row: read-only. Another's: not found (redirected to the index).
    assert 'name="_save"' not in texto(dentista.get(_url("jornada", horas["jornada_a"])))
    alheia = dentista.get(_url("ausencia", horas["ausencia_b"]), follow=True)
    assert "Viagem B" not in texto(alheia)
    for modelo in PAGINAS:
        assert dentista.get(_url(modelo, acao="add")).status_code == 403, modelo
    assert dentista.post(_url("ausencia", horas["ausencia_a"], "delete")).status_code == 403
    assert Ausencia.objects.count() == 2


def test_a_staff_user_without_a_role_sees_nothing_here(clinica, como, horas):
    from django.contrib.auth import get_user_model

    sem_papel = get_user_model().objects.create_user("estagiario", is_staff=True)
    navegador = como(sem_papel)
    for modelo in PAGINAS:
        assert navegador.get(_url(modelo)).status_code == 403, modelo


def test_a_role_group_recreated_without_this_apps_permissions_gets_them_back(db):
    # clinic's grupos_garantir re-creates a deleted group with the clinic's permissions only.
    Group.objects.filter(name="recepcao").delete()
    from apps.clinic.permissions import grupos_garantir

    grupos_garantir()
    recepcao = Group.objects.get(name="recepcao")
    assert not recepcao.permissions.filter(content_type__app_label="expediente").exists()

    permissoes_garantir()
    assert set(
        recepcao.permissions.filter(content_type__app_label="expediente").values_list(
            "codename", flat=True
        )
    ) == {"view_jornada", "view_ausencia", "view_diaextra", "view_fechamento"}
    gestor = Group.objects.get(name="gestor")
    assert gestor.permissions.filter(codename="delete_fechamento").exists()


def test_a_groups_own_choice_is_kept(db):
    dentista = Group.objects.get(name="dentista")
    dentista.permissions.remove(*dentista.permissions.filter(codename="view_fechamento"))
    permissoes_garantir()
    assert not dentista.permissions.filter(codename="view_fechamento").exists()
    assert dentista.permissions.filter(codename="view_jornada").exists()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the exclusion constraint exists on PostgreSQL only"
)
def test_a_concurrent_overlapping_save_is_a_message_not_a_500(clinica, como, horas, monkeypatch):
    # Two tabs: both forms pass clean() (no overlap yet); the other tab's row
    # commits between this form's clean() and its INSERT, and PostgreSQL's
    # jornada_sem_sobreposicao refuses the second. It was an IntegrityError, a 500.
    from apps.expediente.admin import JornadaAdmin

    original = JornadaAdmin.save_model

    def outra_aba_salvou_antes(self, request, obj, form, change):
        Jornada.objects.create(
            dentista=clinica.dentista_a, dia_semana=1, inicio=time(9), fim=time(10)
        )
        return original(self, request, obj, form, change)

    monkeypatch.setattr(JornadaAdmin, "save_model", outra_aba_salvou_antes)
    gestor = como(clinica.gestor)
    resposta = gestor.post(
        _url("jornada", acao="add"),
        {"dentista": clinica.dentista_a.pk, "dia_semana": 1, "inicio": "08:00", "fim": "12:00"},
    )

    assert resposta.status_code == 302
    assert resposta["Location"] == _url("jornada", acao="add")
    pagina = texto(gestor.get(resposta["Location"]))
    assert "Este intervalo se sobrepõe a outro do mesmo dia da semana." in pagina
    # Nothing of the refused save stays (the other tab's row is rolled back with it here).
    assert not Jornada.objects.filter(dentista=clinica.dentista_a, dia_semana=1).exists()
