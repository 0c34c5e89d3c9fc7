"""The patient's confirmation page (no login: the signed link is the key).

GET shows the appointment and two forms; it never changes anything (mail
scanners and link previews fetch links). POST ``acao=confirmar`` confirms;
POST ``acao=cancelar`` first asks "Tem certeza?" (a second form with
``certeza=sim``), then cancels. A change answers with a redirect to the same
address (Post/Redirect/Get), whose GET then shows the answer. Every rule is
in ``apps.lembretes.confirmacao``; this module only renders.

Headers: the project's SemCacheMiddleware sends ``Cache-Control: no-store``;
this view adds ``X-Robots-Tag: noindex``, a Content-Security-Policy that
allows no script and no outside resource, and ``Referrer-Policy:
same-origin`` (not ``no-referrer``: under no-referrer a browser sends
``Origin: null`` with the form's POST, and Django's CSRF check refuses it;
same-origin still sends nothing to any other site). docs/LEMBRETES.md.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django_ratelimit.core import get_usage
from redis.exceptions import RedisError

from apps.contas.rede import ip_do_cliente

from .confirmacao import Acao, Estado, Resultado, Situacao, avaliar, responder

logger = logging.getLogger(__name__)

# Requests to the page per client address (django-ratelimit's fixed window in
# the shared cache, settings.LEMBRETES_CONFIRMACAO_RATE): a patient needs a
# handful; guessing tokens needs far more.
GRUPO_LIMITE = "lembretes.confirmacao"
FEITO = "feito"  # the query parameter of the redirect after a change

CABECALHOS = {
    "Referrer-Policy": "same-origin",
    "X-Robots-Tag": "noindex, nofollow",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}


def _chave(grupo: str, request) -> str:
    return ip_do_cliente(request)


def _segundos_de_espera(request) -> int | None:
    """Seconds until the client's window ends when over the limit; None when allowed.

    The cache down lets the request through (logged): the signature, not the
    counter, is what protects the page.
    """
    try:
        uso = get_usage(
            request,
            group=GRUPO_LIMITE,
            key=_chave,
            rate=settings.LEMBRETES_CONFIRMACAO_RATE,
            increment=True,
        )
    except (RedisError, OSError) as exc:
        logger.warning("confirmation page rate limit not applied: %s", type(exc).__name__)
        return None
    if uso is None or not uso["should_limit"]:
        return None
    return max(uso["time_left"], 1)


def _pagina(request, template: str, contexto: dict, *, status: int = 200) -> HttpResponse:
    resposta = render(
        request, template, {"clinica": settings.CLINICA_NOME, **contexto}, status=status
    )
    for nome, valor in CABECALHOS.items():
        resposta[nome] = valor
    return resposta


def _detalhes(situacao: Situacao) -> dict:
    """What the page may show: day, time, dentist, first name. Never CPF, phone, notes."""
    agendamento = situacao.agendamento
    inicio = timezone.localtime(agendamento.data_hora)
    nome = agendamento.paciente.nome.split()
    return {
        "inicio": inicio,
        "dentista": agendamento.dentista.nome,
        "primeiro_nome": nome[0] if nome else "",
        "ja_confirmado": situacao.ja_confirmado,
    }


RECUSAS = {
    Estado.ADULTERADO: (
        400,
        gettext_lazy("Link inválido"),
        gettext_lazy("Este link não é válido. Confira se ele foi copiado por inteiro."),
    ),
    Estado.EXPIRADO: (
        410,
        gettext_lazy("Link expirado"),
        gettext_lazy("O prazo para responder por este link terminou."),
    ),
    Estado.DESATUALIZADO: (
        409,
        gettext_lazy("Agendamento alterado"),
        gettext_lazy(
            "O horário deste agendamento mudou depois que o lembrete foi enviado, "
            "então este link não vale mais."
        ),
    ),
    Estado.FECHADO: (
        409,
        gettext_lazy("Agendamento encerrado"),
        gettext_lazy(
            "Este agendamento não está mais em aberto: foi cancelado, concluído ou teve falta."
        ),
    ),
}


def _recusa(request, situacao: Situacao) -> HttpResponse:
    status, titulo, texto = RECUSAS[situacao.estado]
    return _pagina(
        request,
        "lembretes/recusa.html",
        {"titulo": titulo, "texto": texto, "estado": situacao.estado.value},
        status=status,
    )


def _estado_atual(request, situacao: Situacao, *, feito: bool = False) -> HttpResponse:
    """The page for ``situacao``: the offer, the answer already given, or a refusal."""
    if situacao.estado is Estado.OK:
        return _pagina(request, "lembretes/confirmacao.html", _detalhes(situacao))
    if situacao.estado is Estado.USADO:
        lembrete = situacao.lembrete
        return _pagina(
            request,
            "lembretes/respondido.html",
            {
                **_detalhes(situacao),
                "feito": feito,
                "confirmou": lembrete.resposta == "confirmado",
                "respondido_em": timezone.localtime(lembrete.respondido_em),
            },
        )
    return _recusa(request, situacao)


@require_http_methods(["GET", "HEAD", "POST"])
def confirmacao(request, token: str) -> HttpResponse:
    """``/confirmar/<token>/``: the offer (GET) and the answer (POST); see the module's doc."""
    if (espera := _segundos_de_espera(request)) is not None:
        resposta = _pagina(request, "lembretes/limite.html", {}, status=429)
        resposta["Retry-After"] = str(espera)
        logger.info("confirmation page: rate limited")
        return resposta
    now = timezone.now()
    if request.method != "POST":
        situacao = avaliar(token, now=now)
        lembrete_id = situacao.lembrete.pk if situacao.lembrete is not None else "-"
        logger.info("confirmation page shown: lembrete %s, state %s", lembrete_id, situacao.estado)
        return _estado_atual(request, situacao, feito=request.GET.get(FEITO) == "1")

    acao = request.POST.get("acao")
    if acao not in {a.value for a in Acao}:
        return _pagina(
            request,
            "lembretes/recusa.html",
            {"titulo": _("Pedido inválido"), "texto": _("Use um dos botões da página.")},
            status=400,
        )
    if acao == Acao.CANCELAR and request.POST.get("certeza") != "sim":
        # The "Tem certeza?" step: a page with a second form, nothing changed.
        situacao = avaliar(token, now=now)
        if situacao.estado is not Estado.OK:
            return _estado_atual(request, situacao)
        return _pagina(request, "lembretes/cancelar.html", _detalhes(situacao))

    resposta = responder(token, acao, now=now)
    if resposta.resultado in (Resultado.CONFIRMADO, Resultado.CANCELADO):
        return HttpResponseRedirect(f"{request.path}?{FEITO}=1")
    if resposta.resultado is Resultado.JA_CONFIRMADO:
        return _pagina(
            request,
            "lembretes/confirmacao.html",
            {**_detalhes(resposta.situacao), "aviso_ja_confirmado": True},
        )
    return _estado_atual(request, resposta.situacao)
