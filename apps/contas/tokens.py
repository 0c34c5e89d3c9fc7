"""API tokens (django-rest-knox): one helper to create one, for code and tests."""

from __future__ import annotations

from knox.models import AuthToken


def token_criar(usuario) -> str:
    """Create an API token for ``usuario``; return its text (sent as ``Authorization: Token …``).

    The database keeps only its hash; it expires after API_TOKEN_INATIVIDADE_HORAS
    without use.
    """
    _instancia, texto = AuthToken.objects.create(user=usuario)
    return texto
