"""Fixtures of the reminders' tests: the clinic's (clock, Redis, worker) and a few of their own."""

from apps.clinic.tests.conftest import (  # noqa: F401
    celery_worker,
    logs_dir,
    redis_url,
    relogio_parado,
)
