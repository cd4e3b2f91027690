"""gunicorn's threaded worker, with connections spread over the worker processes.

gthread accepts every connection it sees, busy or not, and keeps it for its whole
keep-alive life. The few long-lived connections of an RP's HTTP pool or a reverse proxy's
upstream pool then pile up on one worker while the other idles: seen with `idp serve
--workers 2`, 8 keep-alive connections out of 8 on one worker, half the CPU unused and
code flows at a third of their rate. This worker:

  - accepts only while it has a thread free, so a burst of new connections goes to the
    workers that can serve them;
  - answers with "Connection: close" while it holds more connections than it has threads,
    so a client queued behind the others reconnects, to a worker with room.

With no more connections than threads in each worker, nothing changes: keep-alive as usual.
"""
from __future__ import annotations

from gunicorn.workers.gthread import ThreadWorker


class BalancedThreadWorker(ThreadWorker):
    def _in_use(self) -> int:
        """Connections with a request running or waiting for a thread."""
        return self.nr_conns - len(self.keepalived_conns) - len(self.pending_conns)

    def set_accept_enabled(self, enabled):
        super().set_accept_enabled(enabled and self._in_use() < self.cfg.threads
                                   and self.nr_conns < self.worker_connections)

    def enqueue_req(self, conn):
        super().enqueue_req(conn)  # on the main thread: an accept or a readable connection
        self.set_accept_enabled(True)  # stays on only while a thread is free

    # gthread closes after the response when len(keepalived_conns) >= max_keepalived
    # (read by the request's thread): 0 while this worker holds too many connections.
    @property
    def max_keepalived(self):
        return 0 if self.nr_conns > self.cfg.threads else self._max_keepalived

    @max_keepalived.setter
    def max_keepalived(self, value):
        self._max_keepalived = value
