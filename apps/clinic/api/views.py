"""REST API views: thin; reads through querysets, writes through serializers/services."""

from rest_framework import mixins, viewsets

from apps.clinic.models import Dentista, Paciente

from .serializers import DentistaSerializer, PacienteSerializer


class PacienteViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Patients: list (search by name or CPF), create, read, update. No delete."""

    queryset = Paciente.objects.order_by("nome", "id")
    serializer_class = PacienteSerializer
    search_fields = ["nome", "=cpf"]
    ordering_fields = ["nome", "created_at"]


class DentistaViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Dentists: list (search by name or CRO), create, read, update."""

    queryset = Dentista.objects.order_by("nome", "id")
    serializer_class = DentistaSerializer
    search_fields = ["nome", "cro"]
    filterset_fields = ["ativo"]
