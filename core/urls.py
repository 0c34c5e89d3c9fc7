"""URL configuration: the admin and, later, the REST API under /api/."""

from django.contrib import admin
from django.http import JsonResponse
from django.urls import path


def healthz(request):
    """Liveness probe for the launcher and load balancers: always 200 JSON."""
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
]
