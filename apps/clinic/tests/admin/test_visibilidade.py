"""What each role sees and may write in the admin: lookups, patients, dentists, every page."""

import pytest
from django.contrib.auth import get_user_model

from apps.clinic.models import Dentista, Paciente

from .apoio import DIAGNOSTICO_B, PACIENTE_A, PACIENTE_B, texto

pytestmark = pytest.mark.django_db


def _autocomplete(navegador, modelo, campo, termo=""):
    resposta = navegador.get(
        "/admin/autocomplete/",
        {"app_label": "clinic", "model_name": modelo, "field_name": campo, "term": termo},
    )
    assert resposta.status_code == 200
    return {int(item["id"]) for item in resposta.json()["results"]}


def test_a_dentists_patient_lookup_offers_only_their_own_patients(clinica, como):
    dentista = como(clinica.usuario_a)

    assert _autocomplete(dentista, "agendamento", "paciente") == {clinica.paciente_a.pk}
    assert _autocomplete(dentista, "agendamento", "paciente", "Bruno") == set()


@pytest.mark.parametrize("quem", ["gestor", "superusuario", "recepcao"])
def test_the_schedules_roles_look_up_every_patient(clinica, como, quem):
    todos = {clinica.paciente_a.pk, clinica.paciente_b.pk}
    assert _autocomplete(como(getattr(clinica, quem)), "agendamento", "paciente") == todos


def test_an_appointment_lookup_offers_a_dentist_only_their_own_appointments(clinica, como):
    dentista = como(clinica.usuario_a)

    for modelo in ("atendimento", "historicostatus"):
        achados = _autocomplete(dentista, modelo, "agendamento")
        assert achados and all(
            clinica.dentista_a.agendamentos.filter(pk=pk).exists() for pk in achados
        )


def test_a_dentist_sees_only_their_own_patients_and_cannot_write_them(clinica, como):
    dentista = como(clinica.usuario_a)
    proprio = f"/admin/clinic/paciente/{clinica.paciente_a.pk}/change/"
    alheio = f"/admin/clinic/paciente/{clinica.paciente_b.pk}/change/"

    lista = dentista.get("/admin/clinic/paciente/")
    pagina = dentista.get(proprio)

    assert PACIENTE_A in texto(lista) and PACIENTE_B not in texto(lista)
    assert pagina.status_code == 200 and 'name="_save"' not in texto(pagina)  # read-only
    assert PACIENTE_B not in texto(dentista.get(alheio, follow=True))
    # Writes: refused (403), nothing changed.
    assert dentista.post(proprio, {"nome": "Trocado"}).status_code == 403
    assert dentista.get("/admin/clinic/paciente/add/").status_code == 403
    assert dentista.post("/admin/clinic/paciente/add/", {"nome": "Novo"}).status_code == 403
    assert dentista.post(alheio, {"nome": "Trocado"}).status_code in (302, 403)
    assert not Paciente.objects.filter(nome__in=["Trocado", "Novo"]).exists()


def test_only_the_manager_writes_dentists(clinica, como):
    pagina = f"/admin/clinic/dentista/{clinica.dentista_a.pk}/change/"
    for quem in ("usuario_a", "recepcao"):
        navegador = como(getattr(clinica, quem))
        assert navegador.post(pagina, {"nome": "Trocado", "ativo": "on"}).status_code == 403
        assert navegador.get("/admin/clinic/dentista/add/").status_code == 403

    resposta = como(clinica.gestor).post(pagina, {"nome": "Dra. Alice Souza", "ativo": "on"})

    assert resposta.status_code == 302
    assert Dentista.objects.get(pk=clinica.dentista_a.pk).nome == "Dra. Alice Souza"


def test_the_receptionist_edits_patients_but_cannot_delete_them(clinica, como):
    recepcao = como(clinica.recepcao)
    pagina = f"/admin/clinic/paciente/{clinica.paciente_a.pk}/change/"

    resposta = recepcao.post(pagina, {"nome": "Ana Alfa Sigilosa Souza"})

    assert resposta.status_code == 302
    assert Paciente.objects.get(pk=clinica.paciente_a.pk).nome == "Ana Alfa Sigilosa Souza"
    assert (
        recepcao.get(f"/admin/clinic/paciente/{clinica.paciente_a.pk}/delete/").status_code == 403
    )


def _paginas_do_dentista_a(c) -> list[str]:
    proprios = [c.a_andamento, c.a_vencido, c.a_futuro, c.a_cancelado, c.a_concluido]
    return [
        "/admin/",
        "/admin/clinic/",
        "/admin/clinic/paciente/",
        "/admin/clinic/dentista/",
        f"/admin/clinic/dentista/{c.dentista_b.pk}/change/",
        "/admin/clinic/agendamento/",
        "/admin/clinic/agendamento/?dia=todos",
        "/admin/clinic/agendamento/?dia=7dias",
        "/admin/clinic/agendamento/?q=Bruno",
        "/admin/clinic/atendimento/",
        "/admin/clinic/atendimento/add/",
        "/admin/clinic/historicostatus/",
        f"/admin/clinic/paciente/{c.paciente_a.pk}/change/",
        f"/admin/clinic/atendimento/{c.atendimento_a.pk}/change/",
        *(f"/admin/clinic/agendamento/{ag.pk}/change/" for ag in proprios),
        # Another dentist's rows: "not found", whatever the way in.
        f"/admin/clinic/paciente/{c.paciente_b.pk}/change/",
        f"/admin/clinic/agendamento/{c.b_concluido.pk}/change/",
        f"/admin/clinic/agendamento/{c.b_andamento.pk}/history/",
        f"/admin/clinic/atendimento/{c.atendimento_b.pk}/change/",
    ]


def test_no_page_of_a_dentist_shows_another_dentists_patient_or_record(clinica, como):
    dentista = como(clinica.usuario_a)

    for endereco in _paginas_do_dentista_a(clinica):
        resposta = dentista.get(endereco, follow=True)
        assert resposta.status_code in (200, 403), endereco
        assert PACIENTE_B not in texto(resposta), endereco
        assert DIAGNOSTICO_B not in texto(resposta), endereco
    # The pages did show the dentist's own data (so the check above is not vacuous).
    assert PACIENTE_A in texto(dentista.get("/admin/clinic/agendamento/"))


def test_a_staff_user_without_a_role_gets_nothing_of_the_clinic(clinica, como):
    from django.contrib.auth.models import Permission

    sem_papel = get_user_model().objects.create_user("estagiario", is_staff=True)
    # Even with model permissions given by hand: the API's role rule still applies.
    sem_papel.user_permissions.set(Permission.objects.filter(content_type__app_label="clinic"))
    navegador = como(sem_papel)

    for modelo in ("paciente", "dentista", "agendamento", "atendimento", "historicostatus"):
        assert navegador.get(f"/admin/clinic/{modelo}/").status_code == 403, modelo
    assert PACIENTE_A not in texto(navegador.get("/admin/", follow=True))
