"""Maps the services' errors to HTTP answers with pt-BR messages."""

import logging

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler

from apps.clinic.services import TransicaoInvalida

from .parsers import (
    MENSAGEM_JSON_FUNDO,
    MENSAGEM_JSON_INVALIDO,
    CorpoGrandeDemais,
    CorpoInvalido,
)

logger = logging.getLogger(__name__)


def resposta_requisicao_suspeita() -> dict[str, str]:
    """Body of the 400 for a request Django refuses as suspicious (too many fields, ...)."""
    return {"detail": str(_("Requisição inválida.")), "code": "requisicao_invalida"}


def tratar_excecao(exc, context):
    """DRF exception handler: Django ValidationError → 400 by field, TransicaoInvalida → 409.

    Bodies: malformed or too deeply nested JSON → 400 ``parse_error``; over
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` → 413 ``corpo_grande_demais``; deleting a
    row that appointments protect → 409 ``protegido``.

    An ``IntegrityError`` that a service did not turn into a validation error
    (two identical requests racing past a uniqueness check) answers 409; its
    text, which may quote the conflicting values (a CPF), is never logged or
    returned: only the constraint's kind.
    """
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
        # Before IntegrityError: ProtectedError is one of its subclasses.
        return Response(
            {
                "detail": "Não é possível excluir: há agendamentos ligados a este cadastro.",
                "code": "protegido",
            },
            status=status.HTTP_409_CONFLICT,
        )
    elif isinstance(exc, IntegrityError):
        logger.warning(
            "integrity error answered as 409 on %s (%s)",
            context["request"].path,
            type(getattr(exc, "__cause__", None) or exc).__name__,
        )
        return Response(
            {
                "detail": "Conflito com um registro existente; atualize os dados e tente de novo.",
                "code": "conflito",
            },
            status=status.HTTP_409_CONFLICT,
        )
    elif isinstance(exc, Http404):
        return Response(
            {"detail": "Não encontrado.", "code": "not_found"}, status=status.HTTP_404_NOT_FOUND
        )
    elif isinstance(exc, ParseError | RecursionError):
        # DRF's own parsers (views that set parser_classes, e.g. a login view)
        # answer English text, and let a RecursionError through on deep nesting.
        if isinstance(exc, CorpoInvalido):
            mensagem = str(exc.detail)
        elif isinstance(exc, RecursionError):
            mensagem = MENSAGEM_JSON_FUNDO
        else:
            mensagem = MENSAGEM_JSON_INVALIDO
        return Response(
            {"detail": mensagem, "code": "parse_error"}, status=status.HTTP_400_BAD_REQUEST
        )
    elif isinstance(exc, RequestDataTooBig | CorpoGrandeDemais):
        return Response(
            {"detail": str(CorpoGrandeDemais().detail), "code": CorpoGrandeDemais.default_code},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    elif isinstance(exc, SuspiciousOperation):
        return Response(resposta_requisicao_suspeita(), status=status.HTTP_400_BAD_REQUEST)
    resposta = exception_handler(exc, context)
    if resposta is not None and isinstance(resposta.data, list):
        # A ValidationError raised without a field (a filter's, e.g. a NUL in
        # ?search=): keep the documented object shape, under DRF's usual key.
        resposta.data = {"non_field_errors": resposta.data}
    return resposta
