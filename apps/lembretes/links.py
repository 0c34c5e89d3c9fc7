"""The signed, expiring link of a reminder: the patient's way to confirm or cancel.

The token is Django's signing (HMAC-SHA256 with ``SECRET_KEY`` and a salt of
its own, https://docs.djangoproject.com/en/5.2/topics/signing/) of the
reminder's id and the appointment's start as it was when the reminder went
out. Nothing in it can be guessed or changed without the key; no database
row is looked up before the signature checks out.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "apps.lembretes.confirmacao"
# A real token is about 80 characters; anything much longer is refused before
# the signature is computed (a 100 kB path must cost nothing).
TAMANHO_MAXIMO = 200


class LinkInvalido(Exception):
    """The token is not one of ours (``codigo`` "adulterado") or too old ("expirado")."""

    def __init__(self, codigo: str) -> None:
        super().__init__(codigo)
        self.codigo = codigo


@dataclass(frozen=True)
class DadosLink:
    """What a valid token says: the reminder's id and the start it was sent for (aware, UTC)."""

    lembrete_id: int
    inicio: datetime


def token_para(lembrete) -> str:
    """The URL-safe token of ``lembrete`` (a saved ``Lembrete``); about 80 characters."""
    return signing.dumps(
        {"l": lembrete.pk, "i": int(lembrete.inicio.timestamp())}, salt=SALT, compress=False
    )


def url_para(lembrete) -> str:
    """The absolute URL of the confirmation page of ``lembrete`` (``SITE_URL`` + path)."""
    caminho = reverse("lembretes:confirmacao", kwargs={"token": token_para(lembrete)})
    return settings.SITE_URL.rstrip("/") + caminho


def ler_token(token: str) -> DadosLink:
    """Check ``token``'s signature and age; return what it says.

    A token older than ``LEMBRETES_LINK_VALIDADE_DIAS`` days raises
    ``LinkInvalido("expirado")``; one that is not ours (tampered, truncated,
    another salt or key) ``LinkInvalido("adulterado")``. Whether the
    appointment has started, moved or was answered already is the caller's
    check (it needs the database). A token over ``TAMANHO_MAXIMO``
    characters is "adulterado" without further work.
    """
    if len(token) > TAMANHO_MAXIMO:
        raise LinkInvalido("adulterado")
    try:
        dados = signing.loads(
            token, salt=SALT, max_age=timedelta(days=settings.LEMBRETES_LINK_VALIDADE_DIAS)
        )
    except signing.SignatureExpired:
        raise LinkInvalido("expirado") from None
    except (signing.BadSignature, ValueError, zlib.error):
        # ValueError: a payload signed with our key and salt that is not a
        # timestamped JSON object (Signer instead of TimestampSigner, bad
        # base64 or JSON); only a holder of the key can make one, but it
        # must still be a refusal, not a 500.
        raise LinkInvalido("adulterado") from None
    if not isinstance(dados, dict):
        raise LinkInvalido("adulterado")
    try:
        return DadosLink(
            lembrete_id=int(dados["l"]), inicio=datetime.fromtimestamp(int(dados["i"]), tz=UTC)
        )
    except (KeyError, TypeError, ValueError, OverflowError):
        raise LinkInvalido("adulterado") from None
