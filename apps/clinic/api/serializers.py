"""Serializers of the REST API. Validation messages are pt-BR (gettext)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.clinic.models import Dentista, Paciente


class EstritoSerializer(serializers.ModelSerializer):
    """A ModelSerializer that rejects unknown fields instead of ignoring them."""

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            desconhecidos = sorted(set(data.keys()) - set(self.fields))
            if desconhecidos:
                raise serializers.ValidationError(
                    {campo: [_("Campo desconhecido.")] for campo in desconhecidos}
                )
        return super().to_internal_value(data)


class PacienteSerializer(EstritoSerializer):
    class Meta:
        model = Paciente
        fields = [
            "id",
            "nome",
            "cpf",
            "data_nascimento",
            "telefone",
            "email",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class DentistaSerializer(EstritoSerializer):
    class Meta:
        model = Dentista
        fields = ["id", "nome", "cro", "ativo", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
