"""URL configuration: the admin, the REST API under /api/, a health check."""

from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from django.views import defaults


def healthz(request):
    """Liveness probe for the launcher and load balancers: always 200 JSON."""
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("admin/", admin.site.urls),
    # Before api/: its /api/auth/logout/ (token or session) shadows DRF's session-only page.
    path("api/auth/", include("apps.contas.urls")),
    path("api/", include("apps.clinic.api.urls")),
    path("healthz", healthz, name="healthz"),
]


def nao_encontrado(request, exception):
    """404: JSON under /api/ (clients parse it), Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Não encontrado.", "code": "not_found"}, status=404)
    return defaults.page_not_found(request, exception)


def erro_interno(request):
    """500: JSON under /api/, without details (they go to the log, never to the client)."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Erro interno.", "code": "erro_interno"}, status=500)
    return defaults.server_error(request)


handler404 = nao_encontrado
handler500 = erro_interno
