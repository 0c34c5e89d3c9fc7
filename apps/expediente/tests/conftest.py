"""Fixtures of the working-hours tests: the clinic's clock (and Redis, worker where needed)."""

from apps.clinic.tests.conftest import (  # noqa: F401
    celery_worker,
    logs_dir,
    redis_url,
    relogio_parado,
)
