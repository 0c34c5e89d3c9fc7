"""The patient's confirmation page (no login: the signed link is the key)."""

from django.urls import path

from . import views

app_name = "lembretes"

urlpatterns = [
    path("confirmar/<str:token>/", views.confirmacao, name="confirmacao"),
]
