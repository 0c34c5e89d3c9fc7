"""Project-wide middleware."""

from django.utils.cache import add_never_cache_headers


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
