"""``/health/live`` and ``/health/ready``: JSON, no login, nothing internal in the answer.

``live`` answers 200 while the process serves requests (it touches nothing
else: a load balancer restarting web processes must not do it because the
database is down). ``ready`` runs the checks of :mod:`apps.operacao.checks`
at once (django-health-check's runner, each with its own timeout) and answers
200 when none failed, 503 otherwise; warnings do not fail it. Body, for
each check: ``status`` ("ok", "aviso", "erro"), and for "aviso"/"erro" a
``codigo`` and a pt-BR ``motivo``; the sweep adds its times. See docs/OPERACAO.md.
"""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import ThreadPoolExecutor

from django.http import JsonResponse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from health_check.exceptions import ServiceWarning
from health_check.views import HealthCheckView

from .checks import verificacoes_de_prontidao

METODOS = ("GET", "HEAD")


def metodo_nao_permitido(request) -> JsonResponse:
    """405 in JSON with ``Allow: GET, HEAD``: a probe misconfigured to POST learns why at once."""
    resposta = JsonResponse(
        {
            "detail": _("Método “%(metodo)s” não permitido.") % {"metodo": request.method[:20]},
            "code": "metodo_nao_permitido",
        },
        status=405,
    )
    resposta["Allow"] = ", ".join(METODOS)
    return resposta


# csrf_exempt: these pages change nothing, and a POST must get the JSON 405
# below, not the CSRF middleware's HTML 403.
@csrf_exempt
def vivo(request):
    """Liveness: always 200 ``{"status": "ok"}`` while the process answers (GET/HEAD; else 405)."""
    if request.method not in METODOS:
        return metodo_nao_permitido(request)
    return JsonResponse({"status": "ok"})


@method_decorator(csrf_exempt, name="dispatch")
class Pronto(HealthCheckView):
    """Readiness, on django-health-check's view (its runner, its no-cache headers), JSON only.

    GET and HEAD only; any other method answers :func:`metodo_nao_permitido`'s 405.
    """

    http_method_names = ["get", "head"]

    async def http_method_not_allowed(self, request, *args, **kwargs):  # the view is async
        return metodo_nao_permitido(request)

    def get_checks(self):
        return verificacoes_de_prontidao()

    @contextlib.contextmanager
    def get_executor(self):
        # Own pool, not the event loop's default one: a check stuck past its
        # timeout (e.g. a connect to a blackholed host) must not hold the
        # answer while the loop waits for its default executor to finish.
        executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="saude")
        try:
            yield executor
        finally:
            executor.shutdown(wait=False, cancel_futures=True)

    async def get(self, request, *args, **kwargs):
        with self.get_executor() as executor:
            self.results = await asyncio.gather(
                *(check.get_result(executor) for check in self.get_checks())
            )
        return self.render_to_response_json(None)

    def render_to_response_json(self, status):
        verificacoes, falhou = {}, False
        for result in self.results:
            check, erro = result.check, result.error
            corpo: dict = {"status": "ok"}
            if erro is not None:
                aviso = isinstance(erro, ServiceWarning)
                falhou |= not aviso
                proprio = hasattr(erro, "codigo")  # our Problema / Aviso: a text safe to show
                corpo = {
                    "status": "aviso" if aviso else "erro",
                    "codigo": erro.codigo if proprio else check.codigo_padrao,
                    "motivo": erro.motivo if proprio else str(check.motivo_padrao),
                }
            corpo |= getattr(check, "detalhes", {})
            verificacoes[check.nome] = corpo
        resposta = JsonResponse(
            {"status": "erro" if falhou else "ok", "verificacoes": verificacoes},
            status=503 if falhou else 200,
        )
        # Django logs every 5xx answer at ERROR ("Service Unavailable: ..."): a
        # monitor probing every few seconds would flood the log. The dead-man
        # outage is logged once (deadman.registrar_transicao); the flag is how
        # Django's handlers mark an answer already logged (django.utils.log.log_response).
        resposta._has_been_logged = True
        return resposta
