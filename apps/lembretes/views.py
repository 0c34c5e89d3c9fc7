"""The patient's confirmation page (helper "confirmacao" fills this in)."""

from django.http import HttpResponse


def confirmacao(request, token: str):
    return HttpResponse(status=501)
