"""NEXKODONTO settings: one module, read from the environment (django-environ).

Production differs from a laptop only by environment variables. With none set,
the project runs on its embedded defaults: SQLite under ``var/`` and the
embedded Redis that ``make run`` starts on a unix socket under ``var/``.
See README.md, "Environment variables".
"""

import re
import secrets
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

BASE_DIR = Path(__file__).resolve().parent.parent


class _Env(environ.Env):
    """django-environ, but a value that does not parse names its variable.

    ``environ.Env`` lets ``int("abc")``'s bare ValueError through (for a float
    it even says ``could not convert string to float: ''``), naming neither
    the variable nor the expected type. The value itself is not repeated: it
    may be a secret (a URL with a password).
    """

    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        try:
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)
        except ValueError:
            tipo = getattr(cast, "__name__", "the documented format")
            raise ImproperlyConfigured(
                f"{var}: the value set does not parse as {tipo} (README, Environment variables)"
            ) from None


env = _Env()
environ.Env.read_env(BASE_DIR / ".env")  # optional; real environment wins

# Runtime state of the embedded defaults (SQLite file, Redis socket, logs).
VAR_DIR = Path(env.str("NEXKODONTO_VAR_DIR", default=str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _local_secret_key() -> str:
    """Return a per-checkout random key kept in ``var/secret_key`` (created 0600).

    Only used when SECRET_KEY is not in the environment, so a fresh clone runs
    without a shared, committed key.
    """
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="") or _local_secret_key()
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # Before the admin: its admin/index.html and admin/base_site.html (links to the
    # calendar) override the admin's own.
    "apps.agenda",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "apps.clinic",
    "apps.contas",
    "apps.operacao",
    "apps.lembretes",
    "apps.expediente",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves the admin's static files from gunicorn, no separate web server.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Cache-Control: no-store on every dynamic answer (patients' data must not
    # stay in browser or proxy caches). After WhiteNoise, so static files keep
    # their long-lived cache headers.
    "core.middleware.SemCacheMiddleware",
    # A NUL in a query string is a 400 before any view (PostgreSQL text cannot hold it).
    "core.middleware.RecusaNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # The token login's rate limit on the session login pages too.
    "apps.contas.middleware.LimiteDeLoginMiddleware",
    # Last, as django-axes asks: turns a lockout into a 429 answer.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # Refuses logins for a user + IP with too many recent failures
    # (https://django-axes.readthedocs.io/en/latest/2_installation.html).
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTOS", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True

ROOT_URLCONF = "core.urls"
WSGI_APPLICATION = "core.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- HTTPS (production) ----------------------------------------------------------
# All off by default, so `make run` serves plain http://127.0.0.1:8000; the
# production values are in deploy/producao.env.example and make
# `manage.py check --deploy --fail-level WARNING` clean.
# https://docs.djangoproject.com/en/5.2/ref/middleware/#http-strict-transport-security
# Redirect http:// to https:// (W008).
# https://docs.djangoproject.com/en/5.2/ref/settings/#secure-ssl-redirect
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
# Health probes of a load balancer often speak plain HTTP to the backend: not
# redirected. Patterns match the path without its leading slash.
# https://docs.djangoproject.com/en/5.2/ref/settings/#secure-redirect-exempt
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^health/"]
# Browsers refuse plain HTTP to this host for this many seconds (W004).
# https://docs.djangoproject.com/en/5.2/ref/settings/#secure-hsts-seconds
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
# ... and to its subdomains (W005).
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
# Adds "preload" to the header (W021). It only consents: a browser's list changes
# when the registered domain's owner submits it at https://hstspreload.org/.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Session and CSRF cookies only over HTTPS (W012, W016).
# https://docs.djangoproject.com/en/5.2/ref/settings/#session-cookie-secure
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
# Behind a proxy that terminates TLS, a request is HTTPS when the proxy says
# so in X-Forwarded-Proto. Set only when the proxy always sets (or strips) that
# header, or a client could claim HTTPS; without it SECURE_SSL_REDIRECT loops.
# https://docs.djangoproject.com/en/5.2/ref/settings/#secure-proxy-ssl-header
if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# --- end HTTPS -------------------------------------------------------------------

# --- Database -----------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # Web and worker write concurrently: IMMEDIATE takes the write lock
            # at BEGIN, so a read-then-write transaction never fails with
            # "database is locked" halfway (shared/notes/embedded-defaults.md).
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # Tests run real worker subprocesses, which need a file they can open.
    DATABASES["default"]["TEST"] = {
        "NAME": env.str("NEXKODONTO_TEST_SQLITE", default=str(VAR_DIR / "test.sqlite3"))
    }
else:
    # Reuse connections, but check them before each request/task so a
    # connection dropped by the server (restart, pg_terminate_backend) is
    # replaced instead of failing the next query.
    # https://docs.djangoproject.com/en/5.2/ref/databases/#persistent-connections
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation -------------------------------------------------------
LANGUAGE_CODE = "pt-br"
LANGUAGES = [("pt-br", "Português (Brasil)")]
TIME_ZONE = env.str("TIME_ZONE", default="America/Sao_Paulo")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"  # filled by collectstatic (make run does it)
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- REST API -----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Hashed tokens that expire after API_TOKEN_INATIVIDADE_HORAS without use (REST_KNOX).
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Everything requires login; object-level rules live in the views.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "apps.clinic.api.schema.EsquemaClinica",
    "EXCEPTION_HANDLER": "apps.clinic.api.exceptions.tratar_excecao",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "NEXKODONTO API",
    "DESCRIPTION": "Pacientes, dentistas, agenda e atendimentos da clínica.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and Swagger UI need login too (session: /api/auth/login/).
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {"StatusAgendamentoEnum": "apps.clinic.models.Agendamento.Status"},
}
# --- Browsable API ----------------------------------------------------------------
# JSON only, unless API_NAVEGAVEL (default: DEBUG) turns on DRF's HTML pages,
# reduced to the JSON answer without any form (apps/clinic/api/renderers.py):
# the stock forms list rows the user may not see. Staff use Swagger UI.
# https://www.django-rest-framework.org/api-guide/settings/#default_renderer_classes
API_NAVEGAVEL = env.bool("API_NAVEGAVEL", default=DEBUG)
REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = ["rest_framework.renderers.JSONRenderer"] + (
    ["apps.clinic.api.renderers.NavegavelSemFormularios"] if API_NAVEGAVEL else []
)
# --- end Browsable API -----------------------------------------------------------

# --- Input hardening and project translations (issue 9, items 6 and 7) ---------
# The project's own catalog wins over the packages': it corrects DRF's pt-BR
# messages (locale/pt_BR/LC_MESSAGES/django.po).
LOCALE_PATHS = [BASE_DIR / "locale"]
# The site stores no files: without upload handlers, a file in a multipart
# body is read and dropped instead of spooled to disk at any size
# (DATA_UPLOAD_MAX_MEMORY_SIZE does not count files).
FILE_UPLOAD_HANDLERS: list[str] = []
# ?search= with a length limit (a 100,000-character term was a 500 on SQLite).
REST_FRAMEWORK["DEFAULT_FILTER_BACKENDS"] = [
    "apps.clinic.api.filters.BuscaLimitada" if b == "rest_framework.filters.SearchFilter" else b
    for b in REST_FRAMEWORK["DEFAULT_FILTER_BACKENDS"]
]

# --- Closing policy -------------------------------------------------------------
# An appointment is due for closing when start + duration + this grace period
# (minutes) is before now.
FINALIZACAO_TOLERANCIA_MINUTOS = env.int("FINALIZACAO_TOLERANCIA_MINUTOS", default=0)
# Rows closed per transaction by the sweep.
FINALIZACAO_TAMANHO_LOTE = env.int("FINALIZACAO_TAMANHO_LOTE", default=2000)
# Schedule of the sweep, written to django-celery-beat's tables when the entry
# does not exist yet (afterwards the admin is the source of truth). A crontab
# in the usual five fields ...
FINALIZACAO_CRONTAB = env.str("FINALIZACAO_CRONTAB", default="0 * * * *")
# ... or, when set (> 0), a fixed interval in seconds instead.
FINALIZACAO_INTERVALO_SEGUNDOS = env.int("FINALIZACAO_INTERVALO_SEGUNDOS", default=0)


def _validar_politica_de_finalizacao() -> None:
    """Refuse to start with a closing policy that would close the wrong rows."""
    from celery.schedules import crontab

    if FINALIZACAO_TOLERANCIA_MINUTOS < 0:
        # A negative grace period would close appointments still in progress.
        raise ImproperlyConfigured("FINALIZACAO_TOLERANCIA_MINUTOS must be 0 or more (minutes)")
    if FINALIZACAO_TAMANHO_LOTE < 1:
        raise ImproperlyConfigured("FINALIZACAO_TAMANHO_LOTE must be 1 or more")
    if FINALIZACAO_INTERVALO_SEGUNDOS < 0:
        raise ImproperlyConfigured("FINALIZACAO_INTERVALO_SEGUNDOS must be 0 (off) or more")
    campos = FINALIZACAO_CRONTAB.split()
    try:
        if len(campos) != 5:
            raise ValueError("it needs 5 fields: minute hour day-of-month month day-of-week")
        minuto, hora, dia_mes, mes, dia_semana = campos
        crontab(
            minute=minuto,
            hour=hora,
            day_of_month=dia_mes,
            month_of_year=mes,
            day_of_week=dia_semana,
        )
    except ValueError as exc:
        raise ImproperlyConfigured(f"FINALIZACAO_CRONTAB={FINALIZACAO_CRONTAB!r}: {exc}") from None


_validar_politica_de_finalizacao()

# --- Celery -------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default=f"redis+socket://{VAR_DIR / 'redis.sock'}")

CELERY_BROKER_URL = REDIS_URL
# Task results: the database (django-celery-results), see the "filas" section below.
CELERY_TIMEZONE = TIME_ZONE
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
# The clinic's tasks are idempotent, so a message is acknowledged only after
# the task ran, and redelivered if the worker process died under it.
# https://docs.celeryq.dev/en/stable/userguide/tasks.html#Task.acks_late
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# One message reserved per process: long sweeps don't hold short tasks hostage.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CONCURRENCY = env.int("CELERY_WORKER_CONCURRENCY", default=2)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=900)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=960)
# Redis redelivers an unacknowledged message after visibility_timeout: it must
# exceed the longest task, or a running sweep would be delivered twice.
# https://docs.celeryq.dev/en/stable/getting-started/backends-and-brokers/redis.html#visibility-timeout
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
if CELERY_VISIBILITY_TIMEOUT <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        "CELERY_VISIBILITY_TIMEOUT must exceed CELERY_TASK_TIME_LIMIT (seconds), or Redis "
        "would deliver a running task a second time"
    )
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
# A publish from a web request must not hang when the broker is down: a few
# quick retries, then the caller logs and the sweep closes the row later.
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.4,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Celery's Django fixup closes the database connection around every task
# unless told to reuse it for this many tasks. Reusing saves a connection per
# task; core/celery.py health-checks a reused connection before each task, so
# one dropped by the server (restart, pg_terminate_backend) is replaced.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=100)
CELERY_WORKER_SEND_TASK_EVENTS = False

# Queues (issue 10, item 5): per-appointment closes on "finalizacao", the sweep
# and any other long task on "varredura", so a long sweep never sits in front
# of one appointment's close. A worker started without -Q consumes every queue
# listed here (make run's does); `celery worker -Q varredura` takes only that one.
# https://docs.celeryq.dev/en/stable/userguide/routing.html
FILA_FINALIZACAO = "finalizacao"
FILA_VARREDURA = "varredura"
CELERY_TASK_DEFAULT_QUEUE = FILA_FINALIZACAO
CELERY_TASK_QUEUES = [
    Queue(FILA_FINALIZACAO, Exchange(FILA_FINALIZACAO), routing_key=FILA_FINALIZACAO),
    Queue(FILA_VARREDURA, Exchange(FILA_VARREDURA), routing_key=FILA_VARREDURA),
]
CELERY_TASK_ROUTES = {
    "apps.clinic.tasks.processar_agendamento_especifico": {"queue": FILA_FINALIZACAO},
    "apps.clinic.tasks.verificar_e_finalizar_agendamentos_passados": {"queue": FILA_VARREDURA},
    "celery.backend_cleanup": {"queue": FILA_VARREDURA},
}

# --- Operations: broker blips and the sweep's lock (issue 10, item 1; helper "broker") ---
# On a broker connection loss the worker reconnects for ever (max_retries None:
# a Redis down for an hour must not leave a worker that gave up), and a task
# that is running keeps running. On Redis its ack after the reconnect is a
# command on Redis' unacked set, which core/broker.py makes work (kombu 5.7
# crashed there); on RabbitMQ a delivery tag dies with its channel and the
# broker redelivers the message at once, so the running copy is cancelled
# instead of doubling (the setting becomes True by default in Celery 6).
# core/celery.py sets worker_cancel_long_running_tasks_on_connection_loss from
# the final broker URL (core.broker.cancelar_ao_perder_conexao).
# https://docs.celeryq.dev/en/stable/userguide/configuration.html#worker-cancel-long-running-tasks-on-connection-loss
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# The sweep's lock lives this many seconds and its holder renews it every
# third of that (core/locks.py): a release lost to a Redis outage, or a
# holder killed with SIGKILL, blocks later sweeps for at most this long.
SWEEP_LOCK_TTL = env.int("SWEEP_LOCK_TTL", default=60)
# At most an hour: a lost release (Redis down as the sweep ends) or a killed
# holder blocks every later sweep for the lock's whole life.
if not 3 <= SWEEP_LOCK_TTL <= 3600:
    raise ImproperlyConfigured("SWEEP_LOCK_TTL must be between 3 and 3600 seconds")
# --- end broker ---

# --- Operations: database faults (issue 10, item 1; helper "bd") ---
# statement_timeout (and idle_in_transaction_session_timeout) of the worker's
# PostgreSQL sessions, in seconds: below the soft time limit, so the server
# cancels a blocked or slow statement before the limit kills the task and
# leaves the query running with its locks (core/db_timeouts.py). Default: 90 %
# of the soft limit (810 s for 900).
# https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-STATEMENT-TIMEOUT
BD_TEMPO_LIMITE_WORKER_SEGUNDOS = env.int(
    "BD_TEMPO_LIMITE_WORKER_SEGUNDOS", default=CELERY_TASK_SOFT_TIME_LIMIT * 9 // 10
)
if not 0 < BD_TEMPO_LIMITE_WORKER_SEGUNDOS < CELERY_TASK_SOFT_TIME_LIMIT:
    raise ImproperlyConfigured(
        f"BD_TEMPO_LIMITE_WORKER_SEGUNDOS={BD_TEMPO_LIMITE_WORKER_SEGUNDOS} must be above 0 and "
        f"below CELERY_TASK_SOFT_TIME_LIMIT={CELERY_TASK_SOFT_TIME_LIMIT} (seconds)"
    )
# statement_timeout of connections opened by web requests (seconds; 0: none):
# below gunicorn's --timeout (30 s by default), which kills a silent worker
# and would leave its query running the same way.
BD_TEMPO_LIMITE_WEB_SEGUNDOS = env.int("BD_TEMPO_LIMITE_WEB_SEGUNDOS", default=25)
if BD_TEMPO_LIMITE_WEB_SEGUNDOS < 0:
    raise ImproperlyConfigured("BD_TEMPO_LIMITE_WEB_SEGUNDOS must be 0 (none) or more (seconds)")
# Retry-After (seconds) of the 503 a request gets when its database connection
# dies or times out (a PostgreSQL restart or failover): core/middleware.py.
BD_RETRY_AFTER_SEGUNDOS = env.int("BD_RETRY_AFTER_SEGUNDOS", default=5)
if BD_RETRY_AFTER_SEGUNDOS < 1:
    raise ImproperlyConfigured("BD_RETRY_AFTER_SEGUNDOS must be 1 or more (seconds)")
# SQLite has no statement timeout; its busy timeout bounds the wait for the
# write lock, and must end before the soft limit for the same reason.
if (
    DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
    and DATABASES["default"]["OPTIONS"]["timeout"] >= CELERY_TASK_SOFT_TIME_LIMIT
):
    raise ImproperlyConfigured(
        "the SQLite busy timeout must be below CELERY_TASK_SOFT_TIME_LIMIT (seconds)"
    )
# The worker imports these modules before it starts (web and beat's schedule
# do not arm them): core.db_timeouts sets the worker's session limits.
# https://docs.celeryq.dev/en/stable/userguide/configuration.html#imports
CELERY_IMPORTS = [*globals().get("CELERY_IMPORTS", ()), "core.db_timeouts"]
# First: it marks the request for the web's statement_timeout, and answers a
# database fault with 503 + Retry-After instead of 500.
MIDDLEWARE.insert(0, "core.middleware.BancoIndisponivelMiddleware")
# --- end bd ---

# --- Operations: health, dead-man check (issue 10, item 2; helper "saude") ---
# /health/ready's probes of the broker and of the workers (a Celery ping)
# give up after this many seconds (0 < t <= 5), so a probe answers in about
# that long with the broker or every worker gone. docs/OPERACAO.md.
SAUDE_TIMEOUT_SEGUNDOS = env.float("SAUDE_TIMEOUT_SEGUNDOS", default=1.0)
# Below 0.2 s a healthy worker's ping reply (37 ms to 1.05 s measured on a
# loaded 2-core machine, docs/OPERACAO.md) misses it and readiness flaps red.
if not 0.2 <= SAUDE_TIMEOUT_SEGUNDOS <= 5:
    raise ImproperlyConfigured("SAUDE_TIMEOUT_SEGUNDOS must be between 0.2 and 5 (seconds)")
# The sweep keeps this many of its newest run records (ExecucaoVarredura),
# deleting older ones at the end of each run: 1,000 is 41 days of an hourly
# sweep, under 3 hours of a 10-second one. The dead-man check needs only the newest.
VARREDURA_EXECUCOES_MANTIDAS = env.int("VARREDURA_EXECUCOES_MANTIDAS", default=1000)
if VARREDURA_EXECUCOES_MANTIDAS < 1:
    raise ImproperlyConfigured("VARREDURA_EXECUCOES_MANTIDAS must be 1 or more")
# --- end saude ---

# --- Operations: task results, Flower (issue 10, item 3; helper "filas") ---
# Task results in the database (django-celery-results), so the gestor sees the
# closing tasks' outcomes in the admin (apps/operacao/admin_resultados.py).
# Unlike the Redis result backend, publishing a task touches nothing here (no
# result channel to subscribe to), so a save during a broker outage still
# answers at once; the worker writes one row when the task ends. A result
# holds ids and counts only (the tasks take an id and return a bool or a count).
# https://django-celery-results.readthedocs.io/en/latest/getting_started.html
INSTALLED_APPS += ["django_celery_results"]
CELERY_RESULT_BACKEND = "django-db"
# Also store the task's name, args, worker and queue: the admin lists by task.
# https://docs.celeryq.dev/en/stable/userguide/configuration.html#result-extended
CELERY_RESULT_EXTENDED = True
# Results older than this many days are deleted by celery.backend_cleanup,
# which django-celery-beat's DatabaseScheduler schedules daily at 04:00 whenever
# result_expires is set (routed to the "varredura" queue above).
RESULTADOS_RETENCAO_DIAS = env.int("RESULTADOS_RETENCAO_DIAS", default=30)
if RESULTADOS_RETENCAO_DIAS < 1:
    raise ImproperlyConfigured("RESULTADOS_RETENCAO_DIAS must be 1 or more (days)")
CELERY_RESULT_EXPIRES = timedelta(days=RESULTADOS_RETENCAO_DIAS)
# Flower (`make flower`, the optional "flower" extra) reads FLOWER_BASIC_AUTH,
# FLOWER_ADDRESS and FLOWER_PORT from the environment: apps/operacao/flower.py.
# --- end filas ---

# --- Operations: brokers, several machines, backups (issue 10, items 6-7; helper "deploy") ---
# The broker may be another server than Redis: BROKER_URL set to
# amqp://user:pass@host:5672/vhost runs the queues on RabbitMQ (docs/DEPLOY.md).
# Redis (REDIS_URL) stays required: the cache, the sweep's lock and the result
# backend live there. Unset, the broker is REDIS_URL, as before.
# https://docs.celeryq.dev/en/stable/userguide/configuration.html#broker-url
CELERY_BROKER_URL = env.str("BROKER_URL", default=REDIS_URL)
BROKER_E_REDIS = CELERY_BROKER_URL.split(":", 1)[0] in {"redis", "rediss", "redis+socket"}
# Any other word would start every process: kombu reads "garbage" as the host
# of its default transport (amqp://guest@garbage:5672//) and the worker retries
# forever. The value is not echoed: it holds the broker's password.
if not BROKER_E_REDIS and not re.match(r"(amqps?|pyamqp)://", CELERY_BROKER_URL):
    raise ImproperlyConfigured(
        "BROKER_URL must start with amqp://, amqps:// or pyamqp:// (RabbitMQ) or redis://, "
        "rediss://, redis+socket:// (docs/DEPLOY.md, RabbitMQ as the broker)"
    )
if not BROKER_E_REDIS:
    # The Redis transport's options (visibility_timeout, socket timeouts) mean
    # nothing to RabbitMQ: it redelivers an unacknowledged message as soon as
    # its consumer's connection closes, and cancels a consumer that holds one
    # longer than the server's consumer_timeout (30 min by default), which must
    # stay above CELERY_TASK_TIME_LIMIT.
    # https://www.rabbitmq.com/docs/consumers#acknowledgement-timeout
    # confirm_publish: a publish returns once RabbitMQ has taken the message
    # (publisher confirms), so a broker crash right after a save cannot lose
    # it silently. https://docs.celeryq.dev/projects/kombu/en/stable/reference/kombu.transport.pyamqp.html
    CELERY_BROKER_TRANSPORT_OPTIONS = {"confirm_publish": True}
    # A publish from a web request must not hang on an unreachable RabbitMQ
    # either (seconds; py-amqp's connect timeout, default 4).
    CELERY_BROKER_CONNECTION_TIMEOUT = 2
# --- end deploy ---

# --- Reminders and the patient's confirmation (issue 11, apps.lembretes) ------------
# Reminders run on a queue of their own, so a slow e-mail server or webhook
# never delays a close (and a backlog of closes never delays a reminder).
# LEMBRETES_FILA renames it (the reminders' end-to-end test gives its own
# processes a queue of their own, apart from the test session's worker).
FILA_LEMBRETES = env.str("LEMBRETES_FILA", default="lembretes")
CELERY_TASK_QUEUES.append(
    Queue(FILA_LEMBRETES, Exchange(FILA_LEMBRETES), routing_key=FILA_LEMBRETES)
)
CELERY_TASK_ROUTES["apps.lembretes.tasks.*"] = {"queue": FILA_LEMBRETES}
# The clinic's name in messages and pages, and the site's public address
# (links in messages are absolute: SITE_URL + /confirmar/<token>/).
CLINICA_NOME = env.str("CLINICA_NOME", default="Clínica NEXKODONTO")
# Without SITE_URL, the address `make run` serves (HOST, PORT), so a laptop's
# links open: a bind-all HOST is not an address a patient's browser can open.
_HOST_LOCAL = env.str("HOST", default="127.0.0.1")
if _HOST_LOCAL in ("0.0.0.0", "::", ""):
    _HOST_LOCAL = "127.0.0.1"
SITE_URL = env.str("SITE_URL", default=f"http://{_HOST_LOCAL}:{env.str('PORT', default='8000')}")
if not re.fullmatch(r"https?://[^/\s?#]+(/\S*)?", SITE_URL):
    # Without a scheme (clinica.example.org) every message's link was dead text.
    raise ImproperlyConfigured("SITE_URL must be an http(s) URL (https://clinica.example.org)")
# A confirmation link stops working when the appointment starts, and in any
# case this many days after it was sent (the signature's max_age).
LEMBRETES_LINK_VALIDADE_DIAS = env.int("LEMBRETES_LINK_VALIDADE_DIAS", default=15)
if LEMBRETES_LINK_VALIDADE_DIAS < 1:
    raise ImproperlyConfigured("LEMBRETES_LINK_VALIDADE_DIAS must be 1 or more (days)")
# E-mail: Django's backend from one URL (django-environ's email_url:
# smtp+tls://user:password@host:587, smtp://127.0.0.1:1025, ...). The embedded
# default writes each message to a file under var/mensagens/ instead of
# sending it (never to the log: message bodies are not logged).
# https://django-environ.readthedocs.io/en/latest/types.html#environ-env-email-url
if env.str("EMAIL_URL", default=""):
    try:
        globals().update(env.email_url("EMAIL_URL"))
    except (ImproperlyConfigured, ValueError):
        # Never echo the value: it holds the SMTP password.
        raise ImproperlyConfigured(
            "EMAIL_URL is not an e-mail URL (smtp://host:port, smtp+tls://user:password@host:587)"
        ) from None
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mensagens")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="nao-responda@localhost")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
# The generic webhook channel (SMS/WhatsApp providers, or a gateway of the
# clinic's): a JSON POST to this URL, with this bearer token if set.
LEMBRETES_WEBHOOK_URL = env.str("LEMBRETES_WEBHOOK_URL", default="")
if LEMBRETES_WEBHOOK_URL and not re.fullmatch(r"https?://[^/\s?#]+(/\S*)?", LEMBRETES_WEBHOOK_URL):
    # requests' MissingSchema/InvalidURL counted as transient: five attempts, then "esgotadas".
    raise ImproperlyConfigured("LEMBRETES_WEBHOOK_URL must be empty or an http(s) URL")
LEMBRETES_WEBHOOK_TOKEN = env.str("LEMBRETES_WEBHOOK_TOKEN", default="")
LEMBRETES_WEBHOOK_TIMEOUT_SEGUNDOS = env.float("LEMBRETES_WEBHOOK_TIMEOUT_SEGUNDOS", default=10.0)
# A timeout of 0 or less made every send fail (a non-blocking socket, or
# ValueError recorded as "interrupted"): refused at start-up.
if EMAIL_TIMEOUT < 1:
    raise ImproperlyConfigured("EMAIL_TIMEOUT must be 1 or more (seconds)")
if not LEMBRETES_WEBHOOK_TIMEOUT_SEGUNDOS > 0:
    raise ImproperlyConfigured("LEMBRETES_WEBHOOK_TIMEOUT_SEGUNDOS must be more than 0 (seconds)")
# The due-finder (apps.lembretes.tasks.buscar_lembretes_devidos) runs this often
# (seconds; the periodic task's first schedule, then edited in the admin).
LEMBRETES_INTERVALO_SEGUNDOS = env.int("LEMBRETES_INTERVALO_SEGUNDOS", default=60)
if LEMBRETES_INTERVALO_SEGUNDOS < 1:
    raise ImproperlyConfigured("LEMBRETES_INTERVALO_SEGUNDOS must be 1 or more (seconds)")
# Attempts of one reminder on transient channel errors, and the first wait
# (seconds, doubled at each attempt: 30, 60, 120, 240). Short on purpose: a
# retry is a message with an ETA, and the Redis transport redelivers a message
# held past its visibility timeout (docs/LEMBRETES.md).
LEMBRETES_MAX_TENTATIVAS = env.int("LEMBRETES_MAX_TENTATIVAS", default=5)
LEMBRETES_ESPERA_INICIAL_SEGUNDOS = env.int("LEMBRETES_ESPERA_INICIAL_SEGUNDOS", default=30)
if not 1 <= LEMBRETES_MAX_TENTATIVAS <= 10 or not 1 <= LEMBRETES_ESPERA_INICIAL_SEGUNDOS <= 60:
    raise ImproperlyConfigured(
        "LEMBRETES_MAX_TENTATIVAS must be 1-10 and LEMBRETES_ESPERA_INICIAL_SEGUNDOS 1-60 (seconds)"
    )
# The send task's time limits (seconds): one SMTP or HTTP call with its own
# timeout fits well within them. A reminder still "enviando" after the hard
# limit (plus a minute) had its worker killed mid-send: recorded as interrupted.
LEMBRETES_ENVIO_LIMITE_SEGUNDOS = env.int("LEMBRETES_ENVIO_LIMITE_SEGUNDOS", default=60)
if LEMBRETES_ENVIO_LIMITE_SEGUNDOS <= max(EMAIL_TIMEOUT, LEMBRETES_WEBHOOK_TIMEOUT_SEGUNDOS):
    raise ImproperlyConfigured(
        "LEMBRETES_ENVIO_LIMITE_SEGUNDOS must exceed EMAIL_TIMEOUT and "
        "LEMBRETES_WEBHOOK_TIMEOUT_SEGUNDOS (seconds)"
    )
# A pending reminder enqueued this long ago and still pending (its message was
# lost: a broker restart without persistence) is enqueued again (seconds).
LEMBRETES_REENFILEIRAR_SEGUNDOS = env.int("LEMBRETES_REENFILEIRAR_SEGUNDOS", default=300)
# 0 or less kept every enqueued row due at once: with a full batch pending the
# finder's enqueue loop took the same rows forever.
if LEMBRETES_REENFILEIRAR_SEGUNDOS < 1:
    raise ImproperlyConfigured("LEMBRETES_REENFILEIRAR_SEGUNDOS must be 1 or more (seconds)")
# The confirmation page's rate limit per client address (django-ratelimit's
# "N/s|m|h|d"): a guessed token costs a signature check, so brute force stays slow.
LEMBRETES_CONFIRMACAO_RATE = env.str("LEMBRETES_CONFIRMACAO_RATE", default="30/m")
# --- end lembretes ---

# --- Login, tokens and the client's address (apps.contas) ------------------------
# Reverse proxies in front of gunicorn whose X-Forwarded-For is believed: 0
# (the default) believes only REMOTE_ADDR; N believes the N-th address from
# the right of X-Forwarded-For. Used by the login rate limit and django-axes
# (apps.contas.rede.ip_do_cliente), and by DRF's own NUM_PROXIES.
PROXIES_CONFIAVEIS = env.int("PROXIES_CONFIAVEIS", default=0)
if PROXIES_CONFIAVEIS < 0:
    raise ImproperlyConfigured("PROXIES_CONFIAVEIS must be 0 (no proxy) or more")
REST_FRAMEWORK["NUM_PROXIES"] = PROXIES_CONFIAVEIS
# https://django-axes.readthedocs.io/en/latest/4_configuration.html
AXES_CLIENT_IP_CALLABLE = "apps.contas.rede.ip_do_cliente"
# A lockout answers 429 in pt-BR (JSON under /api/), not axes' English page.
AXES_LOCKOUT_CALLABLE = "apps.contas.bloqueio.resposta_de_bloqueio"

# Token-login attempts per client address, a fixed window counted atomically
# in the shared cache (django-ratelimit: cache.add + cache.incr).
API_LOGIN_RATE = env.str("API_LOGIN_RATE", default="10/min")
if not re.fullmatch(r"[1-9][0-9]*/(s|sec|m|min|h|hour|d|day)", API_LOGIN_RATE):
    raise ImproperlyConfigured(
        f"API_LOGIN_RATE={API_LOGIN_RATE!r}: expected <number>/<s|min|hour|day>, e.g. 10/min"
    )
# A counter the cache could not read or bump lets the request through (the
# throttle logs a warning); django-axes still locks out, in the database.
RATELIMIT_FAIL_OPEN = True

# API tokens (django-rest-knox): stored hashed, expire after this many hours
# without use (each use pushes the expiry, at most once a minute), revoked by
# logout. https://jazzband.github.io/django-rest-knox/settings/
API_TOKEN_INATIVIDADE_HORAS = env.int("API_TOKEN_INATIVIDADE_HORAS", default=8)
if API_TOKEN_INATIVIDADE_HORAS < 1:
    raise ImproperlyConfigured("API_TOKEN_INATIVIDADE_HORAS must be 1 or more (hours)")
# ... and, however often it is used, this many days after the login (each use
# would otherwise push the expiry forever).
API_TOKEN_VIDA_MAXIMA_DIAS = env.int("API_TOKEN_VIDA_MAXIMA_DIAS", default=7)
if API_TOKEN_VIDA_MAXIMA_DIAS < 1:
    raise ImproperlyConfigured("API_TOKEN_VIDA_MAXIMA_DIAS must be 1 or more (days)")
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=API_TOKEN_INATIVIDADE_HORAS),
    "AUTO_REFRESH": True,
    "AUTO_REFRESH_MAX_TTL": timedelta(days=API_TOKEN_VIDA_MAXIMA_DIAS),
    "MIN_REFRESH_INTERVAL": 60,
    "AUTH_HEADER_PREFIX": "Token",
}


def _url_do_cache(url: str) -> str:
    """REDIS_URL in the form redis-py's from_url takes (kombu's redis+socket:// is unix://)."""
    if url.startswith("redis+socket://"):
        return "unix://" + url.removeprefix("redis+socket://")
    return url


# The cache is Redis (the broker's server), not a database table: it needs
# nothing from `migrate`, and its INCR is atomic across every web process.
# Short timeouts: a Redis outage must not hang a login.
# https://docs.djangoproject.com/en/5.2/topics/cache/#redis
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": _url_do_cache(REDIS_URL),
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="nexkodonto"),
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}
# --- end of apps.contas settings ---------------------------------------------------

# --- Logging ------------------------------------------------------------------
# One set-up for web (gunicorn.conf.py hands it to gunicorn), worker and beat
# (core/logs.py answers Celery's setup_logging signal, so Celery adds no
# handler of its own) and the launcher (dictConfig(LOGGING), no django.setup()
# needed). One line per record on stderr; LOG_FORMAT=json makes each a JSON
# object (python-json-logger) with the keys time, level, logger, process,
# message and, where they apply, request_id, task_name, task_id,
# agendamento_id. Times in ISO 8601 in TIME_ZONE, with its offset.
# Patients' personal data never goes into log records: code logs ids only.
# https://docs.djangoproject.com/en/5.2/topics/logging/#configuring-logging
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOG_FORMAT = env.str("LOG_FORMAT", default="text").lower()
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r}: expected text or json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"contexto": {"()": "core.logs.ContextoDoLog"}},
    "formatters": {
        "text": {"()": "core.logs.FormatoTexto", "fuso": TIME_ZONE},
        "json": {"()": "core.logs.FormatoJson", "fuso": TIME_ZONE},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["contexto"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Listed to drop the handlers of Django's DEFAULT_LOGGING (a second,
        # plain console line under DEBUG, mail_admins): records go to the root.
        "django": {"level": "NOTSET", "propagate": True},
        "django.server": {"level": "NOTSET", "propagate": True},
        # Never the SQL, whatever LOG_LEVEL: its parameters are patients' data.
        "django.db.backends": {"level": "WARNING"},
        # django-guid logs an invalid incoming X-Request-ID verbatim (client text).
        "django_guid": {"level": "ERROR"},
        # One start-up line per process ("AXES: BEGIN version …"); its login failures stay.
        "axes.apps": {"level": "WARNING"},
        # gunicorn's own loggers (gunicorn.conf.py: logconfig_dict = LOGGING);
        # not propagated, gunicorn sets them apart from the root.
        "gunicorn.error": {"handlers": ["console"], "propagate": False},
        "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# Request ids (django-guid): a valid UUID in the incoming X-Request-ID (a
# proxy's, e.g. nginx's $request_id) is kept, anything else replaced by a new
# one; the answer carries it in X-Request-ID and every record logged while
# serving the request has it as request_id. First middleware, so every
# answer (WhiteNoise's static files and the 400s of later middleware) has one.
# https://django-guid.readthedocs.io/en/latest/settings.html
INSTALLED_APPS.append("django_guid")
MIDDLEWARE.insert(0, "django_guid.middleware.guid_middleware")
DJANGO_GUID = {
    "GUID_HEADER_NAME": "X-Request-ID",
    "VALIDATE_GUID": True,
    "RETURN_HEADER": True,
    "EXPOSE_HEADER": True,
    "UUID_FORMAT": "hex",
}
# --- end Logging ----------------------------------------------------------------


# --- Working hours (apps.expediente, issue 12) ---
# The clinic's state (UF, e.g. "SP", "RJ"), for its state holidays on top of
# the national ones (the `holidays` library's subdivisions of "BR"); empty:
# national holidays only.
CLINICA_UF = env.str("CLINICA_UF", default="").strip().upper()
# Off: holidays close nothing (a clinic that opens on them); its own closures still do.
EXPEDIENTE_FERIADOS = env.bool("EXPEDIENTE_FERIADOS", default=True)


def _uf_valida(uf: str) -> bool:
    import holidays

    return uf in holidays.country_holidays("BR").subdivisions


# The free slots' grid (minutes): starts offered on the clock's :00, :15, :30,
# :45 (apps.expediente.disponibilidade). A divisor of 60, so every hour (and
# day) has the same starts.
EXPEDIENTE_PASSO_MINUTOS = env.int("EXPEDIENTE_PASSO_MINUTOS", default=15)
if EXPEDIENTE_PASSO_MINUTOS < 5 or 60 % EXPEDIENTE_PASSO_MINUTOS:
    raise ImproperlyConfigured(
        "EXPEDIENTE_PASSO_MINUTOS must be a divisor of 60 of at least 5 (minutes: "
        f"5, 6, 10, 12, 15, 20, 30 or 60), not {EXPEDIENTE_PASSO_MINUTOS!r}"
    )

if CLINICA_UF and not _uf_valida(CLINICA_UF):
    raise ImproperlyConfigured(
        f"CLINICA_UF must be a Brazilian state's code (SP, RJ, MG...), not {CLINICA_UF!r}"
    )
