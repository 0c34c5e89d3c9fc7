"""Request body parsers: JSON that can never answer a 500.

DRF's ``JSONParser`` turns a ``ValueError`` into a 400, but a deeply nested
document (100,000 ``[``) makes ``json`` raise ``RecursionError``, which DRF
lets through as a 500 with a long traceback. And DRF reads the request as a
stream, so ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is enforced only when something
happened to read ``request.body`` first; here it is enforced always.
"""

from __future__ import annotations

import codecs

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils import json

MENSAGEM_JSON_INVALIDO = _("Corpo da requisição inválido: envie um JSON bem formado.")
MENSAGEM_JSON_FUNDO = _("Corpo da requisição inválido: JSON aninhado demais.")


class CorpoInvalido(ParseError):
    """400 for a body that cannot be parsed; its pt-BR message is answered as is."""


class CorpoGrandeDemais(APIException):
    """413: the body is larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "corpo_grande_demais"

    def __init__(self):
        super().__init__(mensagem_corpo_grande_demais())


def mensagem_corpo_grande_demais() -> str:
    """pt-BR message naming the limit (``DATA_UPLOAD_MAX_MEMORY_SIZE``, in MiB: 2,5 by default)."""
    mib = (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0) / (1024 * 1024)
    return _("Corpo da requisição grande demais: envie no máximo %(mb)s MB.") % {
        "mb": f"{mib:.1f}".replace(".", ",")
    }


class JSONParserSeguro(JSONParser):
    """``JSONParser`` with a size limit (413) and no 500 on deep nesting (400).

    Raises ``CorpoGrandeDemais`` when the body exceeds ``DATA_UPLOAD_MAX_MEMORY_SIZE``
    bytes, ``CorpoInvalido`` (a ``ParseError``, pt-BR) for malformed JSON, JSON nested
    beyond Python's recursion limit, or bytes that are not in the declared encoding.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        limite = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        bruto = stream.read() if limite is None else stream.read(limite + 1)
        if limite is not None and len(bruto) > limite:
            raise CorpoGrandeDemais()
        try:
            texto = codecs.decode(bruto, encoding)
            parse_constant = json.strict_constant if self.strict else None
            return json.loads(texto, parse_constant=parse_constant)
        except RecursionError:
            raise CorpoInvalido(MENSAGEM_JSON_FUNDO) from None
        except (ValueError, LookupError):
            raise CorpoInvalido(MENSAGEM_JSON_INVALIDO) from None
