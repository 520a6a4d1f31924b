"""The Celery executor: tries go out through an outbox, outcomes come back through PostgreSQL.

submit() only buffers. poll() records the buffered tries in the outbox (try_dispatch,
with their Celery task ids) in one statement, then publishes them; the broker's confirms
are read at the next polls (a wait for them would hold the driver up each time), which
mark the confirmed ones; the relay republishes those the broker lost or refused, so a
broker outage loses no try. Workers record their claims, heartbeats,
logs and outcomes themselves and notify; poll() waits for that notification and reads
the claims of the tries in flight (at the latest when the poll's timeout is up): a try
is queued until poll() reports its claim as a "running" result. A claim whose heartbeat is older than
LEDGERFLOW_TASK_HEARTBEAT_TIMEOUT fails (its worker died), so retries apply; a try no
worker claims stays queued and `waiting` says so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

from ledgerflow.engine.infrastructure import settings, try_tables
from ledgerflow.engine.infrastructure.celery_app import Publisher, revoke
from ledgerflow.engine.infrastructure.database import resolve_url
from ledgerflow.engine.runtime.job_wire import result_from_wire, to_wire
from ledgerflow.engine.runtime.jobs import TaskJob, TaskResult

WAIT_NOTE = 2.0  # seconds a published try may wait for a worker before progress says none takes it
RELAY_EVERY = 1.0  # seconds between republishing what the broker has not confirmed
GATHER = 0.01  # seconds a poll waits for more tries to end once one has
CONFIRM_WAIT = 1.0  # seconds shutting down waits for the broker's confirms still due


@dataclass
class _Flight:
    job: TaskJob
    celery_id: str
    since: float
    wire: dict[str, Any]
    sent: bool = False  # on the broker's channel, its confirm not yet read
    published: bool = False  # the broker confirmed it
    begun: bool = False  # a worker claimed it, and poll() said so

    @property
    def key(self) -> try_tables.Key:
        return (self.job.run_uuid, self.job.task_id, self.job.try_number)


class CeleryExecutor:
    queues = True

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.waiting: str | None = None
        url = resolve_url()
        self._db = try_tables.connect(url)
        self._listen = try_tables.connect(url)
        self._listen.execute(f"LISTEN {try_tables.ENDED_CHANNEL}")
        self._new: list[_Flight] = []
        self._flying: dict[tuple[str, str], _Flight] = {}
        self._late: list[TaskResult] = []
        self._publisher = Publisher()
        self._relayed = 0.0
        self._stale = settings.heartbeat_timeout()

    def submit(self, job: TaskJob) -> None:
        flight = _Flight(job, str(uuid4()), time.monotonic(), to_wire(job))
        self._new.append(flight)
        self._flying[job.key] = flight

    def _dispatch(self) -> None:
        new, self._new = self._new, []
        if new:
            try_tables.record_dispatch(self._db, [(f.celery_id, f.key, f.job.queue, f.wire) for f in new])
            self._send(new)
        if time.monotonic() - self._relayed >= RELAY_EVERY:
            self._relayed = time.monotonic()
            self._send([f for f in self._flying.values() if not f.sent and f not in new])
        self._settle()

    def _send(self, flights: list[_Flight]) -> None:
        """Sends them without waiting for the broker: its confirms are read at the next polls."""
        if self._publisher.send([(f.celery_id, f.job.queue, f.wire, f.job.timeout) for f in flights]):
            for flight in flights:
                flight.sent = True

    def _settle(self, wait: float = 0.0) -> None:
        """Marks the tries the broker confirmed; those it lost (it went away, or refused them) the relay
        sends again."""
        confirmed, lost = self._publisher.settle(wait)
        by_id = {f.celery_id: f for f in self._flying.values() if f.sent and not f.published}
        now = time.monotonic()
        for celery_id in lost:
            if celery_id in by_id:
                by_id[celery_id].sent = False
        for celery_id in confirmed:
            if celery_id in by_id:
                by_id[celery_id].published, by_id[celery_id].since = True, now
        try_tables.confirm(self._db, confirmed)

    def poll(self, timeout: float) -> list[TaskResult]:
        self._dispatch()
        late, self._late = self._late, []
        if not self._flying:
            if not late:
                time.sleep(min(timeout, 0.05))
            return late
        if not late:
            self._await(timeout)
        return late + self._read_claims()

    def _await(self, timeout: float) -> None:
        """Until a try ends. Ends that were waiting are taken at once; after a wait, a moment more, so that
        tries ending together land in one append."""
        if any(True for _ in self._listen.notifies(timeout=0)):
            return
        if not any(True for _ in self._listen.notifies(timeout=timeout, stop_after=1)):
            return
        deadline = time.monotonic() + GATHER
        while (left := deadline - time.monotonic()) > 0 and any(
                True for _ in self._listen.notifies(timeout=left, stop_after=1)):
            pass

    def _read_claims(self) -> list[TaskResult]:
        results, dead, claimed = [], [], set()
        for key, host, pid, result, stale in try_tables.claims_of(self._db, [f.key for f in self._flying.values()],
                                                                 self._stale):
            flight = self._flying.get((key[0], key[1]))
            if flight is None or flight.key != key:
                continue
            claimed.add(key)
            if result is not None:
                results.append(self._land(result))
                continue
            if not flight.begun and host:
                flight.begun = True
                results.append(TaskResult((key[0], key[1]), "running", hostname=host, pid=pid))
            if stale:
                dead.append((key, {"key": [key[0], key[1]], "state": "failed", "hostname": host or None,
                                   "error": f"worker {host} (pid {pid}) sent no heartbeat for {self._stale:g} s: "
                                            f"it is taken for dead"}))
        settled = set(try_tables.settle(self._db, dead))
        results += [self._land(r) for k, r in dead if k in settled]
        self._note(claimed)
        return results

    def _land(self, result: dict[str, Any]) -> TaskResult:
        res = result_from_wire(result)
        flight = self._flying.pop(res.key, None)
        if flight is not None and res.state == "refused":  # no try ran: the runner uses its number again
            try_tables.forget(self._db, [flight.key])
        return res

    def _note(self, claimed: set[try_tables.Key]) -> None:
        now = time.monotonic()
        queued = {f.job.queue for f in self._flying.values()
                  if f.published and f.key not in claimed and now - f.since > WAIT_NOTE}
        unsent = sum(1 for f in self._flying.values() if not f.sent)
        notes = [f"waiting for workers on queue {q}" for q in sorted(queued)]
        if unsent:
            notes.append(f"waiting for the broker to take {unsent} tries")
        self.waiting = "; ".join(notes) or None

    def _stop(self, key: tuple[str, str]) -> bool:
        """Stops one try; False when it had ended (its outcome is reported at the next poll)."""
        flight = self._flying.pop(key, None)
        if flight is None:
            return False
        if flight in self._new:
            self._new.remove(flight)
            return True
        found = try_tables.claims_of(self._db, [flight.key], self._stale)
        if found and found[0][3] is not None:
            self._late.append(result_from_wire(found[0][3]))
            return False
        if not try_tables.settle(self._db, [(flight.key, {"key": list(key), "state": "stopped"})]):
            self._flying[key] = flight  # it ended meanwhile: the next poll reads it
            return False
        if found:
            revoke(flight.celery_id)  # a worker runs it: its outcome is no longer wanted
        return True

    def stop(self, key: tuple[str, str]) -> None:
        self._stop(key)

    def shutdown(self) -> list[tuple[str, str]]:
        stopped = [key for key in list(self._flying) if self._stop(key)]
        self._late += self._read_claims()
        self._settle(CONFIRM_WAIT)  # the confirms of tries that ended before they were read
        self._publisher.close()
        return stopped
