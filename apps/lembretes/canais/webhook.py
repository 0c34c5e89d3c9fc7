"""The generic webhook channel: a JSON POST to ``LEMBRETES_WEBHOOK_URL`` (an SMS/WhatsApp gateway).

Body: ``{"id": "lembrete-<id>", "canal": "webhook", "para": "<phone>",
"mensagem": "<text>"}``, nothing else of the patient. Headers:
``Idempotency-Key: lembrete-<id>`` (the same on every attempt, so a
provider that honours it drops a repeat) and ``Authorization: Bearer
<LEMBRETES_WEBHOOK_TOKEN>`` when set. 2xx is delivered; 5xx, 429, timeouts
and connection errors are transient; any other answer (4xx, and 3xx:
redirects are never followed, so the message and the token never go to
another host) is permanent. Only the status line and headers are read
(``stream=True``): the answer's body is never downloaded, so a gateway that
took the message but sends a huge, slow or broken body neither holds the
worker nor turns a delivery into a "transient" error and a second message.
"""

from __future__ import annotations

import requests
from django.conf import settings

from .base import Canal, ErroPermanente, ErroTransitorio, Mensagem


class CanalWebhook(Canal):
    """JSON POST with ``requests``, timeout ``LEMBRETES_WEBHOOK_TIMEOUT_SEGUNDOS`` (seconds)."""

    codigo = "webhook"
    campo_paciente = "telefone"

    def enviar(self, mensagem: Mensagem) -> None:
        """POST ``mensagem`` as JSON to ``LEMBRETES_WEBHOOK_URL``; return on a 2xx.

        Raises ``ErroTransitorio`` (5xx, 429, no answer within
        ``LEMBRETES_WEBHOOK_TIMEOUT_SEGUNDOS`` seconds, a connection error) or
        ``ErroPermanente`` (no URL configured, any other status, 3xx included);
        details carry the status code or the exception's class only.
        """
        url = settings.LEMBRETES_WEBHOOK_URL
        if not url:
            raise ErroPermanente("LEMBRETES_WEBHOOK_URL não configurada")
        cabecalhos = {"Idempotency-Key": mensagem.chave}
        if settings.LEMBRETES_WEBHOOK_TOKEN:
            cabecalhos["Authorization"] = f"Bearer {settings.LEMBRETES_WEBHOOK_TOKEN}"
        corpo = {"id": mensagem.chave, "canal": self.codigo, "para": mensagem.para}
        corpo["mensagem"] = mensagem.texto
        try:
            resposta = requests.post(
                url,
                json=corpo,
                headers=cabecalhos,
                timeout=settings.LEMBRETES_WEBHOOK_TIMEOUT_SEGUNDOS,
                allow_redirects=False,
                stream=True,  # the status decides; the body is never read
            )
        except requests.Timeout:
            raise ErroTransitorio("webhook: tempo esgotado") from None
        except requests.RequestException as erro:  # connection refused, reset, DNS
            raise ErroTransitorio(f"webhook: {type(erro).__name__}") from None
        codigo = resposta.status_code
        resposta.close()
        if 200 <= codigo < 300:
            return
        if codigo >= 500 or codigo == 429:
            raise ErroTransitorio(f"webhook: HTTP {codigo}")
        raise ErroPermanente(f"webhook: HTTP {codigo}")
