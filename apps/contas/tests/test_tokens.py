"""API tokens: expiry after time without use, logout, logout everywhere, the gestor's revocation."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from knox.models import AuthToken
from rest_framework.test import APIClient

from apps.contas.tokens import token_criar

pytestmark = pytest.mark.django_db

AGORA = datetime(2026, 12, 2, 23, 50, tzinfo=ZoneInfo("America/Sao_Paulo"))
SENHA = "s3nha-l0nga"


def _usuario(nome: str, papel: str):
    usuario = get_user_model().objects.create_user(nome, password=SENHA)
    usuario.groups.add(Group.objects.get(name=papel))
    return usuario


def _com(token: str) -> APIClient:
    cliente = APIClient()
    cliente.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return cliente


def test_the_database_keeps_only_a_hash_of_the_token():
    token = token_criar(_usuario("rec", "recepcao"))
    guardado = AuthToken.objects.get()
    assert token not in (guardado.digest, guardado.token_key)
    assert guardado.token_key == token[:15]


def test_a_token_expires_after_the_configured_hours_without_use_and_each_use_defers_it():
    # API_TOKEN_INATIVIDADE_HORAS defaults to 8.
    with time_machine.travel(AGORA, tick=False) as relogio:
        cliente = _com(token_criar(_usuario("rec", "recepcao")))
        for _ in range(3):  # used every 7 h 59 min: alive for almost a whole day
            relogio.shift(timedelta(hours=7, minutes=59))
            assert cliente.get("/api/pacientes/").status_code == 200
        relogio.shift(timedelta(hours=8, minutes=1))
        assert cliente.get("/api/pacientes/").status_code == 401
    assert not AuthToken.objects.exists()  # knox deletes the expired token


def test_a_token_used_all_the_time_still_ends_after_the_configured_days(settings):
    # Found by the break-it review: with the sliding expiry alone, a token used at
    # least every 8 h never expired. API_TOKEN_VIDA_MAXIMA_DIAS defaults to 7.
    assert settings.API_TOKEN_VIDA_MAXIMA_DIAS == 7
    with time_machine.travel(AGORA, tick=False) as relogio:
        cliente = _com(token_criar(_usuario("rec", "recepcao")))
        for _ in range(20):  # used every 8 h minus a minute: 6 days and 22 h
            relogio.shift(timedelta(hours=7, minutes=59))
            assert cliente.get("/api/pacientes/").status_code == 200
        relogio.move_to(AGORA + timedelta(days=7, minutes=1))
        assert cliente.get("/api/pacientes/").status_code == 401


def test_the_login_answers_the_expiry_the_configured_hours_ahead(settings):
    _usuario("rec", "recepcao")
    with time_machine.travel(AGORA, tick=False):
        resposta = APIClient().post(
            "/api/auth/token/", {"username": "rec", "password": SENHA}, format="json"
        )
    expira = datetime.fromisoformat(resposta.data["expiry"])
    assert expira == AGORA + timedelta(hours=settings.API_TOKEN_INATIVIDADE_HORAS)


def _status(cliente: APIClient) -> int:
    return cliente.get("/api/pacientes/").status_code


@pytest.mark.parametrize(
    ("caminho", "outro_token_vale"), [("logout/", True), ("logout-all/", False)]
)
def test_logout_revokes_this_token_and_logout_all_every_token_of_the_user(
    caminho, outro_token_vale
):
    usuario = _usuario("rec", "recepcao")
    este, outro = _com(token_criar(usuario)), _com(token_criar(usuario))
    colega = _com(token_criar(_usuario("rec2", "recepcao")))
    assert este.post(f"/api/auth/{caminho}").status_code == 204
    assert _status(este) == 401
    assert _status(outro) == (200 if outro_token_vale else 401)
    assert _status(colega) == 200  # another user's tokens are never touched


def test_logout_without_a_token_ends_the_browser_session():
    cliente = APIClient()
    cliente.force_login(_usuario("rec", "recepcao"))
    assert cliente.get("/api/pacientes/").status_code == 200
    assert cliente.post("/api/auth/logout/").status_code == 204
    assert cliente.get("/api/pacientes/").status_code == 401


def test_the_gestor_revokes_every_token_of_a_user():
    alvo = _usuario("rec", "recepcao")
    celular, balcao = _com(token_criar(alvo)), _com(token_criar(alvo))
    gestor = _com(token_criar(_usuario("ges", "gestor")))
    resposta = gestor.post(f"/api/auth/usuarios/{alvo.pk}/revogar-tokens/")
    assert resposta.status_code == 200
    assert resposta.data == {"revogados": 2}
    assert _status(celular) == _status(balcao) == 401
    assert _status(gestor) == 200


@pytest.mark.parametrize("papel", ["recepcao", "dentista"])
def test_other_roles_may_not_revoke_tokens(papel):
    alvo = _usuario("alvo", "recepcao")
    vitima = _com(token_criar(alvo))
    cliente = _com(token_criar(_usuario("outro", papel)))
    assert cliente.post(f"/api/auth/usuarios/{alvo.pk}/revogar-tokens/").status_code == 403
    assert vitima.get("/api/pacientes/").status_code == 200


def test_revoking_the_tokens_of_an_unknown_user_is_a_404():
    gestor = _com(token_criar(_usuario("ges", "gestor")))
    assert gestor.post("/api/auth/usuarios/999999/revogar-tokens/").status_code == 404


def test_a_deactivated_user_s_tokens_are_refused_at_once():
    usuario = _usuario("rec", "recepcao")
    cliente = _com(token_criar(usuario))
    usuario.is_active = False
    usuario.save()
    assert cliente.get("/api/pacientes/").status_code == 401
