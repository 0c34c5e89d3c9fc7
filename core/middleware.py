"""Project-wide middleware."""

from django.http import HttpResponseBadRequest
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _


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
