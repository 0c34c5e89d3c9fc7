"""Project-wide middleware."""

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html
from django.utils.translation import gettext as _

from core import db_timeouts

logger = logging.getLogger(__name__)


class SemCacheMiddleware:
    """Keeps answers with patients' data out of browser and proxy caches.

    Every answer under ``/api/`` gets Django's never-cache headers
    (``Cache-Control: max-age=0, no-cache, no-store, must-revalidate,
    private`` and an ``Expires`` in the past), replacing whatever a view set;
    any other dynamic answer gets them unless its view chose its own
    ``Cache-Control`` (the admin already sends the same never-cache headers).
    Static files never reach this middleware (WhiteNoise answers before it).
    RFC 9111, section 5.2.2.5 (no-store):
    https://www.rfc-editor.org/rfc/rfc9111#name-no-store
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/api/"):
            # add_never_cache_headers merges: drop a view's own max-age first.
            if response.has_header("Cache-Control"):
                del response["Cache-Control"]
            add_never_cache_headers(response)
        elif not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response


class RecusaNulMiddleware:
    """Answers 400 to a query string holding a NUL character, outside ``/api/``.

    PostgreSQL's text type cannot hold NUL: an admin filter, search or
    autocomplete term with ``%00`` reached the database and was a 500
    (DataError) with a traceback; SQLite took it. No page of the site has a
    use for NUL, so it is refused before any view, the same on both databases.
    The API answers its own 400 in JSON (apps/clinic/api/filters.py).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/") and any(
            "\x00" in chave or any("\x00" in valor for valor in valores)
            for chave, valores in request.GET.lists()
        ):
            return HttpResponseBadRequest(
                _("Endereço inválido: o caractere NUL não é aceito."),
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)


def _escrita_da_api(request) -> bool:
    return (
        request.method not in ("GET", "HEAD", "OPTIONS", "TRACE")
        and request.path.startswith("/api/")
        and not request.path.startswith("/api/auth/")
    )


def banco_indisponivel(exc: BaseException | None) -> bool:
    """True when ``exc`` says the database could not do its part now (a transient fault).

    Django's ``OperationalError`` and ``InterfaceError``, which PEP 249
    defines as errors "not necessarily under the control of the programmer":
    a connection terminated by the server (``AdminShutdown`` on a restart or
    failover, ``pg_terminate_backend``), refused, or already closed; a
    statement cancelled by ``statement_timeout``; a deadlock; SQLite's
    "database is locked". Programming, data and integrity errors are not.
    https://peps.python.org/pep-0249/#operationalerror
    """
    return isinstance(exc, OperationalError | InterfaceError)


def resposta_banco_indisponivel(request, exc: BaseException) -> HttpResponse:
    """503 with ``Retry-After`` (``BD_RETRY_AFTER_SEGUNDOS``): JSON under /api/, a page elsewhere.

    The log line names the path, the error's class and SQLSTATE, never its
    text (it may quote a row's values).
    """
    causa = exc.__cause__ or exc
    logger.warning(
        "database unavailable during %s %s (%s %s); answered 503",
        request.method,
        request.path,
        type(causa).__name__,
        getattr(causa, "sqlstate", None) or "-",
    )
    mensagem = _("O banco de dados não respondeu. Tente novamente em alguns segundos.")
    if request.path.startswith("/api/"):
        resposta: HttpResponse = JsonResponse(
            {"detail": mensagem, "code": "banco_indisponivel"}, status=503
        )
    else:
        resposta = HttpResponse(
            format_html(
                '<!doctype html><html lang="pt-br"><head><meta charset="utf-8">'
                "<title>{}</title></head><body><h1>{}</h1><p>{}</p></body></html>",
                _("Serviço indisponível"),
                _("Serviço indisponível"),
                mensagem,
            ),
            status=503,
            content_type="text/html; charset=utf-8",
        )
    resposta["Retry-After"] = str(settings.BD_RETRY_AFTER_SEGUNDOS)
    return resposta


class BancoIndisponivelMiddleware:
    """A request whose database connection died (or timed out) answers 503, not 500.

    ``process_exception`` sees what a view raises, in the admin and in the
    API alike (DRF re-raises what its exception handler does not map, and
    ``apps.clinic.api.exceptions`` maps no database fault), template
    rendering included; ``core.urls.erro_interno`` answers the same for a
    fault outside the view (the session saved on the way out). Nothing
    half-written stays: every service writes inside ``transaction.atomic``,
    and a connection that dies inside it never commits (PostgreSQL rolls
    back a terminated backend's transaction; Django's ``Atomic`` closes the
    broken connection, and the next request opens a new one).

    A write request of the API (POST, PUT, PATCH, DELETE under /api/, but
    /api/auth/) runs in one transaction, committed after its answer is
    built and rolled back when that answer is an error: the views commit
    through a service and then read the row again for the answer, so a
    connection that died between the two answered 503 for a booking that
    was saved (the chaos test found 13 in 372). Now a 2xx means committed.
    /api/auth/ keeps autocommit: django-axes must keep the failed logins a
    400 answers. A commit that itself fails reaches ``core.urls.erro_interno``
    (503).

    First in ``MIDDLEWARE``: while it serves a request, connections opened
    get the web's ``statement_timeout`` (core/db_timeouts.py).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        marca = db_timeouts.em_requisicao.set(True)
        try:
            if not _escrita_da_api(request):
                return self.get_response(request)
            # A connection the server dropped since the last request is
            # replaced now (CONN_HEALTH_CHECKS): inside the atomic block it
            # could not be.
            connection.close_if_health_check_failed()
            with transaction.atomic():
                resposta = self.get_response(request)
                if resposta.status_code >= 400:
                    transaction.set_rollback(True)
            return resposta
        finally:
            db_timeouts.em_requisicao.reset(marca)

    def process_exception(self, request, exception):
        if banco_indisponivel(exception):
            return resposta_banco_indisponivel(request, exception)
        return None
