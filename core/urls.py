"""URL configuration: the admin, the REST API under /api/, health checks, the calendar.

Health checks: apps.operacao; the staff's calendar at / and /agenda/: apps.agenda.
"""

import sys

from django.contrib import admin
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.urls import include, path
from django.views import defaults

from apps.clinic.api.exceptions import mensagem_corpo_grande_demais, resposta_requisicao_suspeita
from core.middleware import banco_indisponivel, resposta_banco_indisponivel

urlpatterns = [
    path("admin/", admin.site.urls),
    # Before api/: its /api/auth/logout/ (token or session) shadows DRF's session-only page.
    path("api/auth/", include("apps.contas.urls")),
    path("api/", include("apps.lembretes.api_urls")),  # /api/confirmacoes/ (docs/LEMBRETES.md)
    # Before the clinic's router: /api/dentistas/{id}/horarios-livres/ (docs/API.md).
    path("api/", include("apps.expediente.api_urls")),
    path("api/", include("apps.clinic.api.urls")),
    # /health/live, /health/ready and /healthz (an alias of live): docs/OPERACAO.md.
    path("", include("apps.operacao.urls")),
    # /confirmar/<token>/: the patient's page behind a reminder's link (docs/LEMBRETES.md).
    path("", include("apps.lembretes.urls")),
    # / and /agenda/: the staff's day calendar (README, "Agenda").
    path("", include("apps.agenda.urls")),
]


def nao_encontrado(request, exception):
    """404: JSON under /api/ (clients parse it), Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Não encontrado.", "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)


def erro_interno(request):
    """500: JSON under /api/, without details (they go to the log, never to the client).

    A database fault outside any view (the session saved on the way out) is
    a 503 with ``Retry-After``, as core.middleware.BancoIndisponivelMiddleware
    answers for the views' own. Django calls this inside its ``except``
    block, so ``sys.exc_info()`` holds the exception.
    """
    erro = sys.exc_info()[1]
    if banco_indisponivel(erro):
        return resposta_banco_indisponivel(request, erro)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Erro interno.", "code": "erro_interno"}, status=500)
    return defaults.server_error(request)


def requisicao_invalida(request, exception):
    """400 that Django raises before any view (body over the upload limit, too many fields).

    Under /api/: JSON, and 413 when the body exceeds ``DATA_UPLOAD_MAX_MEMORY_SIZE``.
    """
    if not request.path.startswith("/api/"):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        corpo = {"detail": mensagem_corpo_grande_demais(), "code": "corpo_grande_demais"}
        return JsonResponse(corpo, status=413)
    return JsonResponse(resposta_requisicao_suspeita(), status=400)


handler400 = requisicao_invalida
handler404 = nao_encontrado
handler500 = erro_interno
