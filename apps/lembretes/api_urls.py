"""The front desk's endpoint under /api/ (core/urls.py mounts it before the clinic's API)."""

from django.urls import path

from .api import ConfirmacoesView

urlpatterns = [
    path("confirmacoes/", ConfirmacoesView.as_view(), name="confirmacoes"),
]
