"""Maps the services' errors to HTTP answers with pt-BR messages."""

import logging
import traceback

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import ErrorDetail, ParseError, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler

from apps.clinic.services import TransicaoInvalida

logger = logging.getLogger(__name__)

MENSAGEM_JSON_INVALIDO = _("Corpo da requisição inválido: envie um JSON bem formado.")
MENSAGEM_JSON_FUNDO = _("Corpo da requisição inválido: JSON aninhado demais.")


def mensagem_corpo_grande_demais() -> str:
    """pt-BR message naming the limit (``DATA_UPLOAD_MAX_MEMORY_SIZE``, in MiB: 2,5 by default)."""
    mib = (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0) / (1024 * 1024)
    return _("Corpo da requisição grande demais: envie no máximo %(mb)s MB.") % {
        "mb": f"{mib:.1f}".replace(".", ",")
    }


def _do_leitor_de_json(exc: RecursionError) -> bool:
    """True when the recursion happened inside the ``json`` module (a deeply nested body)."""
    return any(
        quadro.f_code.co_filename.endswith(("json/decoder.py", "json/__init__.py"))
        for quadro, _linha in traceback.walk_tb(exc.__traceback__)
    )


def resposta_requisicao_suspeita() -> dict[str, str]:
    """Body of the 400 for a request Django refuses as suspicious (too many fields, ...)."""
    return {"detail": str(_("Requisição inválida.")), "code": "requisicao_invalida"}


# DRF writes this one without gettext (serializers.py: ErrorDetail('No data
# provided', code='null')), so the locale files cannot reach it.
SEM_DADOS_DRF = "No data provided"
MENSAGEM_SEM_DADOS = "Nenhum dado enviado: envie um objeto JSON com os campos."


def _traduzir_sem_dados(detalhe: dict) -> None:
    """Replace, in place, DRF's untranslatable "No data provided" (a ``null`` body)."""
    for chave, erros in detalhe.items():
        if isinstance(erros, list):
            detalhe[chave] = [
                ErrorDetail(MENSAGEM_SEM_DADOS, code="null") if erro == SEM_DADOS_DRF else erro
                for erro in erros
            ]


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
    elif isinstance(exc, ParseError):
        return Response(
            {"detail": MENSAGEM_JSON_INVALIDO, "code": "parse_error"},
            status=status.HTTP_400_BAD_REQUEST,
        )
    elif isinstance(exc, RecursionError) and _do_leitor_de_json(exc):
        # DRF's JSONParser turns only ValueError into a ParseError; 100,000
        # nested "[" make json raise RecursionError, in any view (the token
        # login included, whatever its parser_classes).
        return Response(
            {"detail": MENSAGEM_JSON_FUNDO, "code": "parse_error"},
            status=status.HTTP_400_BAD_REQUEST,
        )
    elif isinstance(exc, RequestDataTooBig):
        # DRF reads JSON and form bodies through request.body, which enforces
        # DATA_UPLOAD_MAX_MEMORY_SIZE; Django would answer its English HTML 400.
        return Response(
            {"detail": mensagem_corpo_grande_demais(), "code": "corpo_grande_demais"},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    elif isinstance(exc, SuspiciousOperation):
        return Response(resposta_requisicao_suspeita(), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ValidationError) and isinstance(exc.detail, dict):
        _traduzir_sem_dados(exc.detail)
    resposta = exception_handler(exc, context)
    if resposta is not None and isinstance(resposta.data, list):
        # A ValidationError raised without a field (a filter's, e.g. a NUL in
        # ?search=): keep the documented object shape, under DRF's usual key.
        resposta.data = {"non_field_errors": resposta.data}
    return resposta
