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
from health_check.exceptions import ServiceWarning
from health_check.views import HealthCheckView

from .checks import verificacoes_de_prontidao


def vivo(request):
    """Liveness: always 200 ``{"status": "ok"}`` while the process answers."""
    return JsonResponse({"status": "ok"})


class Pronto(HealthCheckView):
    """Readiness, on django-health-check's view (its runner, its no-cache headers), JSON only."""

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
