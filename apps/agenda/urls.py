"""The calendar's pages (included at the site's root by core/urls.py)."""

from django.urls import path

from . import views

app_name = "agenda"

urlpatterns = [
    path("", views.raiz, name="raiz"),
    path("agenda/", views.dia, name="dia"),
    path("agenda/agendar/", views.agendar, name="agendar"),
    path("agenda/agendamentos/<int:pk>/<slug:nome>/", views.acao, name="acao"),
]
