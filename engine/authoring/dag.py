"""DAG authoring API: DAG, tasks, dependencies, partial subsets."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from ledgerflow.engine.authoring.operands import Linking, tasks_of
from ledgerflow.engine.authoring.timetable import Schedule
from ledgerflow.engine.authoring.trigger_rules import RULE_ALIASES, TRIGGER_RULES
from ledgerflow.engine.domain.ids import is_plain_id
from ledgerflow.engine.domain.patterns import compile_pattern
from ledgerflow.engine.domain.values import MAX_RETRIES, duration, integer
from ledgerflow.engine.errors import DagDefinitionError

_COMMON_DEFAULTS: dict[str, Any] = {
    "depends_on_past": False,
    "wait_for_downstream": False,
    "trigger_rule": "all_success",
    "retries": 0,
    "retry_delay": timedelta(0),
    "pool": None,
    "pool_slots": 1,
    "execution_timeout": None,
    "queue": "default",  # which Celery workers run its tries
}

_dag_context: list[DAG] = []
_entered: list[DAG] | None = None  # set while the loader runs a DAG file


class DAG:
    """A directed acyclic graph of tasks with a schedule; usable as a context manager."""

    def __init__(
        self,
        dag_id: str,
        schedule: Schedule = None,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        catchup: bool = False,
        max_active_runs: int = 16,
        max_active_tasks: int = 16,
        default_args: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        timezone: str = "UTC",
        description: str | None = None,
        tags: Iterable[str] | None = None,
        is_paused_upon_creation: bool | None = None,
        *,
        trigger_intervals: bool = False,
    ) -> None:
        """`trigger_intervals`: zero-length data intervals (Airflow 3's trigger timetables)."""
        if not is_plain_id(dag_id):
            raise DagDefinitionError(f"invalid dag_id {dag_id!r}: use letters, digits, _ . - (not . or .. alone)")
        from ledgerflow.engine.authoring.timetable import Timetable, describe

        self.dag_id = dag_id
        self.schedule = describe(schedule)
        self.timezone = timezone
        self.timetable = Timetable(schedule, timezone, trigger=trigger_intervals)
        self.start_date = start_date
        self.end_date = end_date
        self.catchup = catchup
        self.max_active_runs = integer(max_active_runs, f"DAG {dag_id}: max_active_runs")
        self.max_active_tasks = integer(max_active_tasks, f"DAG {dag_id}: max_active_tasks")
        self.default_args = dict(default_args or {})
        self.params = dict(params or {})
        self.description = description
        self.tags = list(tags or [])
        self.is_paused_upon_creation = is_paused_upon_creation  # None: the configured default
        self.airflow_mode: int | None = None  # 2 or 3 for an Airflow DAG file (its semantics and defaults)
        self.tasks: dict[str, BaseTask] = {}
        self.fileloc: str | None = None
        self.folder: str | None = None  # the DAG folder, on sys.path while its tasks run
        self.fingerprint: str | None = None
        self.parent: DAG | None = None

    _partial: bool  # set only on partial_subset copies; read through is_partial

    def __enter__(self) -> DAG:
        _dag_context.append(self)
        if _entered is not None and self not in _entered:
            _entered.append(self)  # `with DAG(...):` registers the DAG, as in Airflow 2.4+
        return self

    def __exit__(self, *exc: object) -> None:
        _dag_context.pop()

    def __repr__(self) -> str:
        return f"<DAG {self.dag_id}>"

    def add_task(self, task: BaseTask) -> None:
        if task.task_id in self.tasks:
            raise DagDefinitionError(f"DAG {self.dag_id}: duplicate task_id {task.task_id!r}")
        self.tasks[task.task_id] = task
        task.dag = self

    @property
    def task_ids(self) -> list[str]:
        return list(self.tasks)

    def topological_order(self) -> list[str]:
        """Task ids, upstream before downstream; ties keep declaration order."""
        indegree = {tid: len(t.upstream_task_ids & self.tasks.keys()) for tid, t in self.tasks.items()}
        ready = [tid for tid, n in indegree.items() if n == 0]
        order: list[str] = []
        while ready:
            tid = ready.pop(0)
            order.append(tid)
            for child in sorted(self.tasks[tid].downstream_task_ids & self.tasks.keys(),
                                key=list(self.tasks).index):
                indegree[child] -= 1
                if indegree[child] == 0:
                    ready.append(child)
        if len(order) != len(self.tasks):
            cyclic = sorted(set(self.tasks) - set(order))
            raise DagDefinitionError(f"DAG {self.dag_id} has a cycle through {', '.join(cyclic)}")
        return order

    def relatives(self, task_ids: Iterable[str], *, upstream: bool) -> set[str]:
        """All transitive upstream (or downstream) task ids of the given tasks."""
        found: set[str] = set()
        stack = list(task_ids)
        while stack:
            task = self.tasks[stack.pop()]
            for rel in task.upstream_task_ids if upstream else task.downstream_task_ids:
                if rel not in found and rel in self.tasks:
                    found.add(rel)
                    stack.append(rel)
        return found

    def match_tasks(self, regex: str) -> set[str]:
        pattern = compile_pattern(regex)
        return {tid for tid in self.tasks if pattern.search(tid)}

    def partial_subset(self, task_ids: set[str]) -> DAG:
        """A copy restricted to task_ids, with edges to other tasks removed."""
        sub = DAG.__new__(DAG)
        sub.__dict__.update(self.__dict__)
        sub.tasks = {}
        for tid, task in self.tasks.items():
            if tid in task_ids:
                clone = task.copy_for(sub)
                clone.upstream_task_ids &= task_ids
                clone.downstream_task_ids &= task_ids
                sub.tasks[tid] = clone
        sub._partial = self.is_partial or len(sub.tasks) < len(self.tasks)
        return sub

    @property
    def is_partial(self) -> bool:
        """True for a partial_subset that left out some of the DAG's tasks."""
        return bool(self.__dict__.get("_partial", False))

    def leaves(self) -> list[str]:
        return [tid for tid, t in self.tasks.items() if not (t.downstream_task_ids & self.tasks.keys())]


class BaseTask(Linking):
    """Common task attributes and dependency operators."""

    template_fields: tuple[str, ...] = ()
    # set in __init__ (the common ones from _COMMON_DEFAULTS / default_args) and by DAG.add_task
    task_id: str
    dag: DAG
    depends_on_past: bool
    wait_for_downstream: bool
    trigger_rule: str
    retries: int
    retry_delay: timedelta
    pool: str | None
    pool_slots: int
    execution_timeout: timedelta | float | None  # a number means seconds
    queue: str

    def __init__(self, task_id: str, *, dag: DAG | None = None, **common: Any) -> None:
        if not is_plain_id(task_id):
            raise DagDefinitionError(f"invalid task_id {task_id!r}: use letters, digits, _ . - (not . or .. alone)")
        dag = dag or (_dag_context[-1] if _dag_context else None)
        if dag is None:
            raise DagDefinitionError(f"task {task_id!r} is not inside a DAG (use `with DAG(...)`)")
        unknown = set(common) - _COMMON_DEFAULTS.keys()
        if unknown:
            raise DagDefinitionError(f"task {task_id!r}: unknown argument(s) {', '.join(sorted(unknown))}")
        self.task_id = task_id
        for name, default in _COMMON_DEFAULTS.items():
            value = common.get(name, dag.default_args.get(name, default))
            setattr(self, name, value)
        self.retries = integer(self.retries, f"task {task_id!r}: retries", high=MAX_RETRIES)  # max_tries is stored
        self.pool_slots = integer(self.pool_slots, f"task {task_id!r}: pool_slots", low=1)
        self.retry_delay = duration(self.retry_delay, f"task {task_id!r}: retry_delay")
        if self.execution_timeout is not None:
            self.execution_timeout = duration(self.execution_timeout, f"task {task_id!r}: execution_timeout")
        rule = RULE_ALIASES.get(self.trigger_rule, self.trigger_rule)
        if rule not in TRIGGER_RULES:
            raise DagDefinitionError(f"task {task_id!r}: unknown trigger_rule {self.trigger_rule!r}")
        self.trigger_rule = rule
        if self.wait_for_downstream:
            self.depends_on_past = True
        self.upstream_task_ids: set[str] = set()
        self.downstream_task_ids: set[str] = set()
        dag.add_task(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.task_id}>"

    def has_instance_at(self, logical_date: datetime) -> bool:
        """Whether a scheduled or manual run at this date gets an instance of the task (the Airflow
        layer honours a task's own start_date and end_date; backfills ignore them, as in Airflow)."""
        return True

    def retry_wait(self, failed_try: int, run_key: str) -> timedelta:
        """How long the next try waits after try `failed_try` failed (the Airflow layer adds backoff)."""
        return self.retry_delay

    def try_ended(self, outcome: str, context: dict[str, Any], exception: BaseException | None) -> None:
        """Called in the try's process as it ends ("success", "skipped", "up_for_retry" or "failed");
        the Airflow layer runs its callbacks here."""

    def copy_for(self, dag: DAG) -> BaseTask:
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.upstream_task_ids = set(self.upstream_task_ids)
        clone.downstream_task_ids = set(self.downstream_task_ids)
        clone.dag = dag
        return clone

    def set_downstream(self, others: Any) -> None:
        for other in tasks_of(others, as_upstream=False, source=self):
            if other.dag is not self.dag:
                raise DagDefinitionError(f"{self.task_id} and {other.task_id} are in different DAGs")
            self.downstream_task_ids.add(other.task_id)
            other.upstream_task_ids.add(self.task_id)

    def set_upstream(self, others: Any) -> None:
        for up in tasks_of(others, as_upstream=True):
            up.set_downstream(self)



class EmptyTask(BaseTask):
    """Does nothing; useful to group dependencies."""


class PythonTask(BaseTask):
    """Calls python_callable with op_args and op_kwargs (templated) and the context names it asks for;
    its return value is its XCom return_value."""

    template_fields = ("op_args", "op_kwargs")

    def __init__(
        self,
        task_id: str,
        python_callable: Callable[..., Any],
        op_args: list[Any] | tuple[Any, ...] | None = None,
        op_kwargs: dict[str, Any] | None = None,
        **common: Any,
    ) -> None:
        if not callable(python_callable):
            raise DagDefinitionError(f"task {task_id!r}: python_callable is not callable")
        self.python_callable = python_callable
        self.op_args = list(op_args or [])
        self.op_kwargs = dict(op_kwargs or {})
        super().__init__(task_id, **common)


class BashTask(BaseTask):
    """Runs bash_command (templated); a non-zero exit fails the try."""

    template_fields = ("bash_command", "env")

    def __init__(
        self, task_id: str, bash_command: str, env: dict[str, str] | None = None, **common: Any
    ) -> None:
        self.bash_command = bash_command
        self.env = env
        super().__init__(task_id, **common)


class SubDagTask(BaseTask):
    """Runs a child DAG (dag_id ``parent.child``) for the same logical date."""

    def __init__(self, task_id: str, subdag: DAG, **common: Any) -> None:
        self.subdag = subdag
        super().__init__(task_id, **common)
        expected = f"{self.dag.dag_id}.{task_id}"
        if subdag.dag_id != expected:
            del self.dag.tasks[task_id]
            raise DagDefinitionError(
                f"subdag of {task_id!r} must have dag_id {expected!r}, not {subdag.dag_id!r}"
            )
        subdag.parent = self.dag
