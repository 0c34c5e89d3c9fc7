"""Health endpoints (included at the site's root by core/urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("health/live", views.vivo, name="health-live"),
    path("health/ready", views.Pronto.as_view(), name="health-ready"),
    # The launcher, deploy units and older probes use /healthz: an alias of live.
    path("healthz", views.vivo, name="healthz"),
]
