"""Maps the services' errors to HTTP answers with pt-BR messages."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler

from apps.clinic.services import TransicaoInvalida


def tratar_excecao(exc, context):
    """DRF exception handler: Django ValidationError → 400 by field, TransicaoInvalida → 409."""
    if isinstance(exc, DjangoValidationError):
        detalhe = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = ValidationError(detalhe)
    elif isinstance(exc, TransicaoInvalida):
        return Response(
            {"detail": exc.mensagem, "code": "transicao_invalida"}, status=status.HTTP_409_CONFLICT
        )
    elif isinstance(exc, ProtectedError):
        return Response(
            {
                "detail": "Não é possível excluir: há agendamentos ligados a este cadastro.",
                "code": "protegido",
            },
            status=status.HTTP_409_CONFLICT,
        )
    return exception_handler(exc, context)
