"""The Redis transport, made to survive a broker blip while tasks run (issue 10, item 1).

kombu 5.7.0 (the newest release, 2026-12) loses a worker that is running a
late-acknowledged task when its Redis connection breaks (restart, failover,
network cut). What happens, read in ``celery/worker/consumer/consumer.py``
(``on_connection_error_after_connected``) and ``kombu/transport/redis.py``:

1. The consumer first ``collect()``s the broken connection. That closes the
   channel, and ``Channel.close()`` begins by reading the pending ``BRPOP``
   reply, which raises ``ConnectionError`` on the dead socket *before* the
   channel is marked closed. ``collect`` swallows the error and detaches
   the transport from its connection (``transport.client = None``).
2. The consumer then ``close()``s the same connection, which closes the
   half-closed channel again. With a message delivered and not yet acked
   (the running task: ``acks_late``), closing restores it, which needs a
   Redis client, whose pool is built from ``transport.client``, now
   ``None``: ``AttributeError: 'NoneType' object has no attribute
   'hostname'`` in ``restore_unacked``. That is not a connection error, so
   nothing catches it and the worker exits ("Unrecoverable error").
   An idle worker has nothing to restore, which is why its restart is
   harmless. Sometimes the process does not even exit: it stays in its
   shutdown ("Error on stopping Hub", same error), connected to nothing,
   consuming nothing.
3. Had it survived, the running task's ack would later go through the same
   old channel and fail the same way.

The fix, three small overrides installed into kombu's Redis transport by
:func:`instalar` (called from ``core/celery.py``):

- :meth:`CanalRedis.close` finishes closing when the pending read fails, so
  the channel is closed once, while the transport is still attached.
- :meth:`CanalRedis._connparams` remembers the connection's parameters, so
  an ack of a task that kept running across the blip reaches the (new)
  Redis at the same address instead of raising.
- :meth:`QoSRedis.restore_unacked` leaves out the messages of tasks that are
  running: they keep running and ack when done (removing the message from
  Redis' unacked set). Putting them back in the queue would start a second
  copy of a running sweep. A task that never acks (its worker died later)
  is redelivered after ``visibility_timeout``, as after any worker crash.
  Messages reserved but not started are restored at once, as before.

See docs/RELIABILITY.md, "Broker blips".
"""

from __future__ import annotations

from kombu.transport import redis as kombu_redis
from kombu.transport.virtual import Empty


class QoSRedis(kombu_redis.QoS):
    """kombu's Redis QoS, except that a running task's message is not requeued on close."""

    def restore_unacked(self, client=None):
        """Requeue the delivered, unacked messages, except those of tasks still running.

        During a worker shutdown (warm: its tasks have ended; cold: they are
        being killed) every message is requeued, as kombu does.
        """
        from celery.worker import state

        parando = any(
            sinal is not None and sinal is not False
            for sinal in (state.should_stop, state.should_terminate)
        )
        em_execucao = set()
        if not parando:
            em_execucao = {
                pedido.message.delivery_tag
                for pedido in tuple(state.active_requests)
                if getattr(pedido, "message", None) is not None
            }
        with self.channel.conn_or_acquire(client) as client:
            for tag in self._delivered:
                if tag not in em_execucao:
                    self.restore_by_tag(tag, client=client)
        self._delivered.clear()


class CanalRedis(kombu_redis.Channel):
    """kombu's Redis channel, closable once on a dead socket and usable after its transport."""

    QoS = QoSRedis

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._conninfo = self.connection.client

    def close(self):
        if self._in_poll:
            try:
                self._brpop_read()
            except Empty:
                pass
            except self.connection_errors:
                pass  # the socket is dead; _brpop_read reset _in_poll: go on closing
        super().close()

    def _connparams(self, asynchronous=False):
        transporte = self.connection
        if transporte.client is not None or self._conninfo is None:
            return super()._connparams(asynchronous=asynchronous)
        # Detached by Connection.collect(): build the pool from the saved parameters.
        transporte.client = self._conninfo
        try:
            return super()._connparams(asynchronous=asynchronous)
        finally:
            transporte.client = None


def cancelar_ao_perder_conexao(broker_url: str) -> bool:
    """Whether a worker should cancel its running late-ack tasks when the broker connection drops.

    False for Redis (``redis://``, ``rediss://``, ``redis+socket://``): with
    :func:`instalar` the running task acks after the reconnect, exactly once.
    True otherwise (RabbitMQ): an AMQP delivery tag dies with its channel, the
    broker redelivers the message at once, and the running copy would double it.
    https://docs.celeryq.dev/en/stable/userguide/configuration.html#worker-cancel-long-running-tasks-on-connection-loss
    """
    return not broker_url.startswith(("redis://", "rediss://", "redis+socket://"))


def instalar() -> None:
    """Make kombu's Redis transport (``redis://``, ``rediss://``, ``redis+socket://``) use these.

    Idempotent. Sentinel keeps kombu's own channel (not used by this project).
    """
    kombu_redis.Transport.Channel = CanalRedis
