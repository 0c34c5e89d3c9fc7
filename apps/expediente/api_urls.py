"""URLs of the free slots, included under ``/api/`` before the clinic's router (core/urls.py)."""

from django.urls import path

from .api import DentistaHorariosLivresView, HorariosLivresView

urlpatterns = [
    path(
        "dentistas/<int:pk>/horarios-livres/",
        DentistaHorariosLivresView.as_view(),
        name="dentista-horarios-livres",
    ),
    path("horarios-livres/", HorariosLivresView.as_view(), name="horarios-livres"),
]
