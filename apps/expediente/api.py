"""REST API of the free slots: thin, every answer from ``disponibilidade``.

- ``GET /api/dentistas/{id}/horarios-livres/?de=&ate=&duracao=``: one dentist.
- ``GET /api/horarios-livres/?de=&ate=&duracao=&dentista=``: the receptionist's
  search, every active dentist (or the one given), grouped per dentist.

Roles as the agenda's (``apps.clinic.permissions``): gestor and recepcao see
any dentist; a dentist only themselves (another's id is a 404, as
``/api/dentistas/{id}/agenda/`` answers). Dates are the clinic's calendar
(``TIME_ZONE``); starts are answered with the clinic's offset.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.clinic.api.filters import validar_dia
from apps.clinic.models import DURACAO_MAXIMA_MINUTOS, DURACAO_MINIMA_MINUTOS, Dentista
from apps.clinic.permissions import TODOS, TemPapel, papel

from .disponibilidade import LIMITE_DIAS, HorariosLivres, horarios_livres_detalhados


class ParametrosSerializer(serializers.Serializer):
    """The query: ``de``/``ate`` (AAAA-MM-DD, inclusive; default today), ``duracao`` (minutes)."""

    de = serializers.DateField(required=False, input_formats=["iso-8601"])
    ate = serializers.DateField(required=False, input_formats=["iso-8601"])
    duracao = serializers.IntegerField(
        required=False,
        default=30,
        min_value=DURACAO_MINIMA_MINUTOS,
        max_value=DURACAO_MAXIMA_MINUTOS,
    )
    dentista = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)

    def validate(self, dados):
        de = validar_dia(dados.get("de") or timezone.localdate(), "de")
        ate = validar_dia(dados.get("ate") or de, "ate")
        if ate < de:
            raise serializers.ValidationError(
                {"ate": [_("A data final não pode ser antes de de.")]}
            )
        if (ate - de).days + 1 > LIMITE_DIAS:
            raise serializers.ValidationError(
                {"ate": [_("Consulte no máximo %(dias)d dias por vez.") % {"dias": LIMITE_DIAS}]}
            )
        return {**dados, "de": de, "ate": ate}


class HorariosLivresSerializer(serializers.Serializer):
    dentista = serializers.IntegerField()
    nome = serializers.CharField()
    duracao_minutos = serializers.IntegerField()
    de = serializers.DateField()
    ate = serializers.DateField()
    horarios = serializers.ListField(child=serializers.DateTimeField())
    aviso = serializers.CharField(help_text=_("Vazio, ou por que não há horários a oferecer."))


class BuscaSerializer(serializers.Serializer):
    duracao_minutos = serializers.IntegerField()
    de = serializers.DateField()
    ate = serializers.DateField()
    dentistas = HorariosLivresSerializer(many=True)


PARAMETROS = [
    OpenApiParameter(
        "de", OpenApiTypes.DATE, description="Primeiro dia (fuso da clínica); padrão: hoje"
    ),
    OpenApiParameter("ate", OpenApiTypes.DATE, description="Último dia (inclusive); padrão: de"),
    OpenApiParameter(
        "duracao", OpenApiTypes.INT, description="Duração da consulta em minutos (5–480); padrão 30"
    ),
]


def _aviso(livres: HorariosLivres) -> str:
    """Why no slot is offered, when it is the dentist's state and not a full agenda."""
    if not livres.ativo:
        return _("Este dentista está inativo e não recebe agendamentos.")
    if not livres.planejado:
        return _(
            "O dentista não tem jornada semanal cadastrada: nenhum horário é oferecido, "
            "mas a agenda aceita qualquer horário livre."
        )
    return ""


def _respostas(dentistas: list[Dentista], parametros: dict) -> list[dict]:
    livres = horarios_livres_detalhados(
        [d.pk for d in dentistas],
        de=parametros["de"],
        ate=parametros["ate"],
        duracao_minutos=parametros["duracao"],
        agora=timezone.now(),
    )
    return [
        {
            "dentista": d.pk,
            "nome": d.nome,
            "duracao_minutos": parametros["duracao"],
            "de": parametros["de"],
            "ate": parametros["ate"],
            "horarios": livres[d.pk].horarios,
            "aviso": _aviso(livres[d.pk]),
        }
        for d in dentistas
    ]


def _parametros(request) -> dict:
    entrada = ParametrosSerializer(data=request.query_params)
    entrada.is_valid(raise_exception=True)
    return entrada.validated_data


def _dentista_visivel(request, dentista_id: int) -> Dentista:
    """The dentist ``dentista_id``, or 404 (unknown, or another's for a dentist)."""
    dentista = get_object_or_404(Dentista, pk=dentista_id)
    if papel(request.user) == "dentista" and dentista.usuario_id != request.user.pk:
        raise NotFound(_("Não encontrado."))
    return dentista


class DentistaHorariosLivresView(APIView):
    """One dentist's free starts: within hours, minus appointments, closures and holidays."""

    permission_classes = [TemPapel]
    papeis = {"get": TODOS}

    @extend_schema(parameters=PARAMETROS, responses={200: HorariosLivresSerializer})
    def get(self, request, pk: int):
        parametros = _parametros(request)
        dentista = _dentista_visivel(request, pk)
        return Response(HorariosLivresSerializer(_respostas([dentista], parametros)[0]).data)


class HorariosLivresView(APIView):
    """The receptionist's search: free starts of every active dentist, or of ``dentista``."""

    permission_classes = [TemPapel]
    papeis = {"get": TODOS}

    @extend_schema(
        parameters=[
            *PARAMETROS,
            OpenApiParameter(
                "dentista", OpenApiTypes.INT, description="Só este dentista (id); padrão: todos"
            ),
        ],
        responses={200: BuscaSerializer},
    )
    def get(self, request):
        parametros = _parametros(request)
        if parametros.get("dentista"):
            dentistas = [_dentista_visivel(request, parametros["dentista"])]
        elif papel(request.user) == "dentista":
            dentistas = list(Dentista.objects.filter(usuario=request.user))
        else:
            dentistas = list(Dentista.objects.filter(ativo=True).order_by("nome", "id"))
        corpo = {
            "duracao_minutos": parametros["duracao"],
            "de": parametros["de"],
            "ate": parametros["ate"],
            "dentistas": _respostas(dentistas, parametros),
        }
        return Response(BuscaSerializer(corpo).data)


__all__ = ["DentistaHorariosLivresView", "HorariosLivresView"]
