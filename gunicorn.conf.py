"""gunicorn's settings for every way the site is served (make run, deploy/, tests).

gunicorn reads ``./gunicorn.conf.py`` from its working directory by default
(https://docs.gunicorn.org/en/stable/configure.html#configuration-file), and
every process of the project starts in the project root. Command-line flags
(``--bind``, ``--workers``) still win over what is set here.
"""

from core.settings import LOGGING

# gunicorn's error and access logs through the project's one logging set-up
# (LOG_FORMAT, LOG_LEVEL, times in TIME_ZONE): the same handler and keys as
# the Django code it serves, the worker and beat.
# https://docs.gunicorn.org/en/stable/settings.html#logconfig-dict
logconfig_dict = LOGGING
# One access record per request, with fields (method, path, status, bytes,
# duration_ms, remote_addr, request_id): core.logs.LoggerGunicorn. The path
# without its query string: searches (a name, a CPF) stay out of logs.
logger_class = "core.logs.LoggerGunicorn"


def post_request(worker, req, environ, resp):
    """After the access line: forget the request id, so the worker's next lines carry none."""
    from django_guid import clear_guid

    clear_guid()


# gunicorn 27 opens a control socket at ~/.gunicorn/gunicorn.ctl by default.
# Nothing here uses its commands; under the shipped systemd unit the service
# user's home is read-only (ProtectSystem=strict), so it only logged an ERROR
# at every start, and two gunicorns of one user shared that one path.
# https://docs.gunicorn.org/en/stable/settings.html#control-socket-disable
control_socket_disable = True
