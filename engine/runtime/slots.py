"""Where a try may start: the DAG's max_active_tasks, a task's own limit, the executor's slots and the pools.

The runner takes a slot when it starts a try and gives it back when the try ends
or a clear stops it; keeping both in one place keeps the pool counts right
whichever way a try leaves. The pools' counts are a PoolBoard, which the DAGs a
scheduler drives at once (one thread each) share, so a pool's slots hold across them.
"""

from __future__ import annotations

import threading

from ledgerflow.engine.authoring.dag import DAG, BaseTask
from ledgerflow.engine.domain.pools import DEFAULT_POOL

Key = tuple[str, str]  # (run uuid, task id)


class PoolBoard:
    """Pool slots taken by the tries one process drives, whichever of its DAGs started them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.busy: dict[str, int] = {}


class Slots:
    def __init__(self, dag: DAG, pool_slots: dict[str, int], executor_slots: int | None,
                 forced_pool: str | None = None, board: PoolBoard | None = None) -> None:
        self.dag = dag
        self.pool_slots = pool_slots
        self.executor_slots = executor_slots
        self.forced_pool = forced_pool
        self.in_flight: dict[Key, str] = {}  # the tries started and not yet ended, with their pool
        self.board = board or PoolBoard()
        self.others_hold_pool = False  # a pool refused a try while another DAG's tries held its slots

    def pool_of(self, task: BaseTask) -> str:
        return self.forced_pool or task.pool or DEFAULT_POOL

    def claim(self, key: Key, task: BaseTask, running: int, max_active_tasks: int) -> str | None:
        """Takes a slot for the try; or says why the task may not start now (taking nothing). An Airflow 3
        DAG file's max_active_tasks counts the tries of the try's own run; an Airflow task's
        max_active_tis_per_dag its own tries across runs."""
        pool = self.pool_of(task)
        if self.dag.airflow_mode == 3:
            running = sum(1 for uid, _ in self.in_flight if uid == key[0])
        if running >= max_active_tasks:
            return f"max_active_tasks ({max_active_tasks}) reached"
        per_task = getattr(task, "max_active_tis_per_dag", None)
        if per_task is not None and sum(1 for _, t in self.in_flight if t == task.task_id) >= per_task:
            return f"max_active_tis_per_dag ({per_task}) reached"
        if self.executor_slots is not None and len(self.in_flight) >= self.executor_slots:
            return "all executor slots busy"
        busy = self.board.busy
        with self.board.lock:  # the check and the take as one, against the other DAGs' threads
            if busy.get(pool, 0) + task.pool_slots > self.pool_slots.get(pool, 0):
                mine = sum(self.dag.tasks[k[1]].pool_slots for k, p in self.in_flight.items() if p == pool)
                self.others_hold_pool = self.others_hold_pool or busy.get(pool, 0) > mine
                return f"pool {pool} has no free slot ({self.pool_slots.get(pool, 0)} slots)"
            busy[pool] = busy.get(pool, 0) + task.pool_slots
        self.in_flight[key] = pool
        return None

    def release(self, key: Key) -> bool:
        """Gives the try's slot back; False when it held none (it never started or ended already)."""
        pool = self.in_flight.pop(key, None)
        if pool is None:
            return False
        with self.board.lock:
            self.board.busy[pool] -= self.dag.tasks[key[1]].pool_slots
        return True

    def __contains__(self, key: Key) -> bool:
        return key in self.in_flight

    def __len__(self) -> int:
        return len(self.in_flight)
