"""/api/auth/: token login, logout, logout of every device, and the gestor's revocation."""

from django.urls import path

from .views import EntrarView, RevogarTokensView, SairDeTodosView, SairView

urlpatterns = [
    path("token/", EntrarView.as_view(), name="api-token"),
    path("logout/", SairView.as_view(), name="api-logout"),
    path("logout-all/", SairDeTodosView.as_view(), name="api-logout-all"),
    path(
        "usuarios/<int:pk>/revogar-tokens/",
        RevogarTokensView.as_view(),
        name="api-revogar-tokens",
    ),
]
