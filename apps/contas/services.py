"""Writes of the accounts app."""

from __future__ import annotations

import logging

from knox.models import AuthToken

logger = logging.getLogger(__name__)


def tokens_revogar(*, usuario, por) -> int:
    """Delete every API token of ``usuario`` (each device is logged out); return how many.

    ``por`` is the user who asked (logged with both ids). Sessions of the admin
    are not touched: deactivate the user for that.
    """
    revogados, _por_modelo = AuthToken.objects.filter(user=usuario).delete()
    logger.info("user %s revoked %d API token(s) of user %s", por.pk, revogados, usuario.pk)
    return revogados
