"""Token login and logout (django-rest-knox), and the gestor's revocation of a user's tokens.

Why knox and not DRF's ``authtoken``: DRF's tokens never expire and are stored
in clear; knox stores a hash, expires a token after TOKEN_TTL without use
(AUTO_REFRESH) and ships logout / logout-all views that delete it.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model, logout
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from knox.auth import TokenAuthentication
from knox.models import AuthToken
from knox.views import LoginView, LogoutAllView
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.clinic.permissions import TemPapel

from . import services
from .bloqueio import resposta_de_bloqueio
from .limites import LimiteDeLogin

TokenCriado = inline_serializer(
    "TokenCriado",
    fields={
        "token": serializers.CharField(help_text="Envie como `Authorization: Token <token>`."),
        "expiry": serializers.DateTimeField(
            help_text="Expira nesta hora se não for usado; cada uso a adia."
        ),
    },
)
SEM_CORPO = OpenApiResponse(description="Feito; sem corpo")


class EntrarView(LoginView):
    """POST {"username", "password"} → {"token", "expiry"}; API_LOGIN_RATE tries per address.

    The password goes through ``authenticate()``, so django-axes counts a wrong
    one and refuses a locked-out user + address; knox's ``post`` then sends
    ``user_logged_in``, on which axes writes its AccessLog and resets that user
    + address's failures (AXES_RESET_ON_SUCCESS).
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [LimiteDeLogin]
    throttle_scope = "login"  # the schema documents the 429 of views that have one

    @extend_schema(
        request=AuthTokenSerializer,
        responses={200: TokenCriado},
        auth=[],
        description=(
            "Entrar: devolve um token que expira após horas sem uso. Limite de tentativas "
            "por endereço (429); senhas erradas repetidas bloqueiam o usuário nesse endereço."
        ),
    )
    def post(self, request, format=None):
        dados = AuthTokenSerializer(data=request.data, context={"request": request})
        if not dados.is_valid():
            # django-axes marks the request it was given (this DRF request), which
            # its middleware never sees: answer its lockout here.
            if getattr(request, "axes_locked_out", False):
                return resposta_de_bloqueio(request)
            raise ValidationError(dados.errors)
        request.user = dados.validated_data["user"]
        return super().post(request, format=format)


class SairView(APIView):
    """POST: revoke the token of this request (or end the browser's session); 204."""

    authentication_classes = [TokenAuthentication, SessionAuthentication]

    @extend_schema(
        request=None,
        responses={204: SEM_CORPO},
        description="Sair: revoga o token usado nesta requisição (ou encerra a sessão).",
    )
    def post(self, request, format=None):
        if isinstance(request.auth, AuthToken):
            request.auth.delete()
        else:
            logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SairDeTodosView(LogoutAllView):
    """POST: revoke every token of the requesting user (all devices); 204."""

    @extend_schema(
        request=None,
        responses={204: SEM_CORPO},
        description="Sair de todos os dispositivos: revoga todos os tokens do usuário.",
    )
    def post(self, request, format=None):
        return super().post(request, format=format)


class RevogarTokensView(APIView):
    """POST (gestor): revoke every API token of user ``pk`` → {"revogados": n}."""

    permission_classes = [TemPapel]
    papeis = {"post": {"gestor"}}

    @extend_schema(
        request=None,
        description="Gestor: revoga todos os tokens de um usuário (ele precisa entrar de novo).",
        responses={
            200: inline_serializer(
                "TokensRevogados", fields={"revogados": serializers.IntegerField()}
            )
        },
    )
    def post(self, request, pk: int, format=None):
        usuario = get_object_or_404(get_user_model(), pk=pk)
        return Response({"revogados": services.tokens_revogar(usuario=usuario, por=request.user)})
