"""The reminders' tasks module: publishing the send tasks when the broker fails."""

import logging

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from kombu.exceptions import OperationalError

from apps.lembretes import tasks


def test_a_broker_outage_stops_the_publish_at_the_first_failure(monkeypatch, caplog):
    # Found by the hostile review: every id was tried in turn, each with the
    # publish retry policy and the broker's connect timeout (0.2 s refused,
    # about 6 s unreachable): 500 ids held the finder for minutes, and the
    # per-id ``except Exception`` swallowed its soft time limit. The rows not
    # published stay pending; the finder enqueues them again later.
    tentativas = []

    def falhar(args, **opcoes):
        tentativas.append(args)
        raise OperationalError("[Errno 111] Connection refused")

    monkeypatch.setattr(tasks.enviar_lembrete, "apply_async", falhar)
    with caplog.at_level(logging.WARNING, logger="apps.lembretes.tasks"):
        tasks._publicar([11, 12, 13])
    assert tentativas == [[11]]
    assert "3 reminder(s) not enqueued (OperationalError)" in caplog.text


def test_the_soft_time_limit_is_not_swallowed_by_the_publish(monkeypatch):
    def estourar(args, **opcoes):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(tasks.enviar_lembrete, "apply_async", estourar)
    with pytest.raises(SoftTimeLimitExceeded):
        tasks._publicar([11, 12])
