"""Reminder channels: the registry from a rule's ``canal`` to its adapter.

To add a channel (an SMS or WhatsApp provider): write a ``Canal`` subclass
(``base.py``; ``webhook.py`` is a complete example), add its code to
``models.Canal`` and its class to ``ADAPTADORES`` below.
"""

from __future__ import annotations

from ..models import Canal as CodigoCanal
from .base import Canal, ErroCanal, ErroPermanente, ErroTransitorio, Mensagem
from .email import CanalEmail
from .webhook import CanalWebhook

ADAPTADORES: dict[str, type[Canal]] = {
    CodigoCanal.EMAIL: CanalEmail,
    CodigoCanal.WEBHOOK: CanalWebhook,
}


def canal_para(codigo: str) -> Canal:
    """The adapter of channel ``codigo`` (a ``models.Canal`` value); ``KeyError`` if unknown."""
    return ADAPTADORES[codigo]()


__all__ = [
    "ADAPTADORES",
    "Canal",
    "ErroCanal",
    "ErroPermanente",
    "ErroTransitorio",
    "Mensagem",
    "canal_para",
]
