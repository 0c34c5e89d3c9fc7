"""Admin of the rules and of the reminders, by role: gestor edits, recepcao views, dentista 403."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from apps.lembretes import services
from apps.lembretes.models import Lembrete, RegraLembrete

from .apoio import agendar, regras_do_teste

pytestmark = pytest.mark.django_db

REGRAS = "admin:lembretes_regralembrete_changelist"
LEMBRETES = "admin:lembretes_lembrete_changelist"


def _staff(nome, grupo=None, **extra):
    usuario = get_user_model().objects.create_user(nome, is_staff=True, **extra)
    if grupo:
        usuario.groups.add(Group.objects.get_or_create(name=grupo)[0])
    return usuario


@pytest.fixture
def como(db):
    def entrar(papel: str) -> Client:
        usuario = (
            _staff("raiz", is_superuser=True) if papel == "superusuario" else _staff(papel, papel)
        )
        navegador = Client()
        navegador.force_login(usuario)
        return navegador

    return entrar


@pytest.fixture
def regra(relogio_parado):
    return regras_do_teste()


def _formulario(**campos):
    dados = {
        "nome": "1 hora antes",
        "ativa": "on",
        "canal": "email",
        "antecedencia_minutos": "60",
        "tolerancia_minutos": "15",
        "assunto": "Hoje às {hora}",
        "modelo": "Olá, {paciente}! {link}",
    }
    dados.update(campos)
    return dados


@pytest.mark.parametrize("papel", ["gestor", "superusuario"])
def test_the_gestor_adds_a_rule_and_an_unknown_placeholder_is_named(regra, como, papel):
    navegador = como(papel)
    adicionar = reverse("admin:lembretes_regralembrete_add")
    assert navegador.get(reverse(REGRAS)).status_code == 200

    resposta = navegador.post(adicionar, _formulario(modelo="Olá {paciente}, {diagnostico}"))
    assert resposta.status_code == 200
    assert "Marcador desconhecido: {diagnostico}." in resposta.content.decode()
    resposta = navegador.post(adicionar, _formulario(assunto="{dentista.usuario}"))
    assert "Marcador inválido: {dentista.usuario}." in resposta.content.decode()
    assert not RegraLembrete.objects.filter(nome="1 hora antes").exists()

    assert navegador.post(adicionar, _formulario()).status_code == 302
    nova = RegraLembrete.objects.get(nome="1 hora antes")
    pagina = navegador.get(reverse("admin:lembretes_regralembrete_change", args=[nova.pk]))
    # The preview renders the template with sample data.
    assert "Olá, Maria!" in pagina.content.decode()


def test_a_subject_with_a_line_break_is_refused_on_save(regra, como):
    # Found by the hostile review: saved, then every e-mail of the rule failed
    # (Django refuses a header with a line break).
    adicionar = reverse("admin:lembretes_regralembrete_add")
    resposta = como("gestor").post(adicionar, _formulario(assunto="Hoje\r\nBcc: x@example.org"))
    assert resposta.status_code == 200
    assert "O assunto não pode ter quebra de linha." in resposta.content.decode()
    assert not RegraLembrete.objects.filter(nome="1 hora antes").exists()


def test_the_gestor_edits_a_rule(regra, como):
    navegador = como("gestor")
    url = reverse("admin:lembretes_regralembrete_change", args=[regra.pk])
    resposta = navegador.post(url, _formulario(nome="24 h", antecedencia_minutos="1440"))
    assert resposta.status_code == 302
    regra.refresh_from_db()
    assert regra.modelo == "Olá, {paciente}! {link}"


def test_recepcao_sees_the_rules_but_cannot_change_or_add(regra, como):
    navegador = como("recepcao")
    url = reverse("admin:lembretes_regralembrete_change", args=[regra.pk])
    assert navegador.get(reverse(REGRAS)).status_code == 200
    pagina = navegador.get(url)
    assert pagina.status_code == 200 and 'name="_save"' not in pagina.content.decode()
    assert navegador.post(url, _formulario()).status_code == 403
    assert navegador.get(reverse("admin:lembretes_regralembrete_add")).status_code == 403
    regra.refresh_from_db()
    assert regra.nome == "24 h"


def test_nobody_deletes_a_rule(regra, como):
    url = reverse("admin:lembretes_regralembrete_delete", args=[regra.pk])
    assert como("gestor").post(url, {"post": "yes"}).status_code == 403
    assert RegraLembrete.objects.filter(pk=regra.pk).exists()


@pytest.mark.parametrize("nome", [REGRAS, LEMBRETES])
def test_a_dentist_gets_403_and_anonymous_the_login(regra, como, client, nome):
    assert como("dentista").get(reverse(nome)).status_code == 403
    resposta = client.get(reverse(nome))
    assert resposta.status_code == 302 and "/admin/login/" in resposta["Location"]


@pytest.fixture
def lembretes(regra, relogio_parado, django_capture_on_commit_callbacks):
    agora = relogio_parado
    agendar(agora + timedelta(hours=23), now=agora)
    agendar(agora + timedelta(hours=22), now=agora, email="", nome="Zeca Semcontato Sigiloso")
    with django_capture_on_commit_callbacks(execute=True):
        services.buscar_devidos(now=agora, publicar=lambda ids: None)
    return Lembrete.objects.all()


@pytest.mark.parametrize("papel", ["gestor", "recepcao"])
def test_gestor_and_recepcao_see_the_reminders_read_only(lembretes, como, papel):
    navegador = como(papel)
    lista = navegador.get(reverse(LEMBRETES), {"motivo__exact": "sem_contato"})
    texto = lista.content.decode()
    assert lista.status_code == 200
    assert "Paciente sem contato para este canal" in texto
    assert "Sigiloso" not in texto and "example.com" not in texto
    assert navegador.get(reverse(LEMBRETES), {"situacao__exact": "pendente"}).status_code == 200

    lembrete = lembretes.first()
    url = reverse("admin:lembretes_lembrete_change", args=[lembrete.pk])
    pagina = navegador.get(url)
    assert pagina.status_code == 200 and 'name="_save"' not in pagina.content.decode()
    assert navegador.post(url, {"situacao": "enviado"}).status_code == 403
    assert navegador.get(reverse("admin:lembretes_lembrete_add")).status_code == 403
    apagar = reverse("admin:lembretes_lembrete_delete", args=[lembrete.pk])
    assert navegador.post(apagar, {"post": "yes"}).status_code == 403
    assert Lembrete.objects.count() == 2
