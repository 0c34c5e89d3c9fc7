"""URL configuration: the admin, the REST API under /api/, a health check."""

from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path


def healthz(request):
    """Liveness probe for the launcher and load balancers: always 200 JSON."""
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("apps.clinic.api.urls")),
    path("healthz", healthz, name="healthz"),
]
