from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from .views import (
    AgendamentoViewSet,
    AtendimentoViewSet,
    DentistaViewSet,
    PacienteViewSet,
    RelatorioAgendamentosView,
)

router = DefaultRouter()
router.register("pacientes", PacienteViewSet, basename="paciente")
router.register("dentistas", DentistaViewSet, basename="dentista")
router.register("agendamentos", AgendamentoViewSet, basename="agendamento")
router.register("atendimentos", AtendimentoViewSet, basename="atendimento")

urlpatterns = [
    path("", include(router.urls)),
    path("relatorios/agendamentos/", RelatorioAgendamentosView.as_view(), name="relatorio"),
    # Session login page for the browser (Swagger UI at /api/docs/); token login and
    # logout are apps.contas's, under the same /api/auth/.
    path("auth/", include("rest_framework.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
