"""Answers to a refused login: locked out by django-axes, or over the rate limit.

pt-BR for the person at the screen: JSON under ``/api/`` (the API's error
shape, ``{"detail", "code"}``), a short plain-text page elsewhere (the admin's
and the browsable API's login pages). Django-axes' own lockout page is English.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def _resposta(request, texto: str, codigo: str, *, segundos: int | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        resposta = JsonResponse({"detail": texto, "code": codigo}, status=429)
    else:
        resposta = HttpResponse(texto, status=429, content_type="text/plain; charset=utf-8")
    if segundos:
        resposta["Retry-After"] = str(segundos)
    return resposta


def resposta_de_bloqueio(request, original_response=None, credentials=None) -> HttpResponse:
    """HTTP 429 for a user + address that django-axes locked out (AXES_LOCKOUT_CALLABLE).

    The wait is ``AXES_COOLOFF_TIME`` (a timedelta), given in whole minutes.
    Names no user: a locked-out name may not exist.
    """
    minutos = max(int(settings.AXES_COOLOFF_TIME.total_seconds() // 60), 1)
    texto = ngettext(
        "Acesso bloqueado: senhas erradas demais. Tente de novo em %(n)d minuto.",
        "Acesso bloqueado: senhas erradas demais. Tente de novo em %(n)d minutos.",
        minutos,
    ) % {"n": minutos}
    return _resposta(request, texto, "bloqueado", segundos=minutos * 60)


def resposta_de_limite(request, segundos: int) -> HttpResponse:
    """HTTP 429 for an address over API_LOGIN_RATE; ``segundos`` until the window ends."""
    texto = _("Tentativas de entrar demais deste endereço. Tente de novo em %(n)d segundos.") % {
        "n": segundos
    }
    return _resposta(request, texto, "limite_de_tentativas", segundos=segundos)
