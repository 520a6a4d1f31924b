"""The source of every DAG file the tests write: a shared PRELUDE and named DAG bodies.

Every DAG file has the path of a state directory baked in. Its tasks append
one line per execution to `<state>/executions.log` ("<task_id> <ds>"), so a
test can see what ran and in which order, and fail when a marker file
`<state>/fail__<task_id>__<ds>` exists (a per-(task, date) failure switch).

DAGS bodies are templates: `{state}` is the state directory and literal braces
are doubled. dag_folders.py writes them into a test's tmp dir.
"""

from __future__ import annotations

from pathlib import Path

PRELUDE = '''
import os
import time
from datetime import datetime, timedelta
from pathlib import Path

from ledgerflow import DAG, BashTask, EmptyTask, PythonTask, SubDagTask

STATE = Path({state!r})


def record(line):
    with open(STATE / "executions.log", "a") as f:
        f.write(line + "\\n")


def work(ds, task_id):
    """Records the execution, then fails when this (task, date) has a failure switch."""
    record(f"{{task_id}} {{ds}}")
    if (STATE / f"fail__{{task_id}}__{{ds}}").exists():
        raise RuntimeError(f"{{task_id}} fails on {{ds}} (failure switch)")


def timed(ds, task_id, seconds):
    """Records start and end instants (for overlap checks), sleeping in between."""
    record(f"start {{task_id}} {{ds}} {{time.time():.6f}}")
    time.sleep(float(seconds))
    record(f"end {{task_id}} {{ds}} {{time.time():.6f}}")


def slow(ds, task_id, seconds):
    """Sleeps, then records that it finished: the line is the task's side effect."""
    time.sleep(float(seconds))
    record(f"{{task_id}} {{ds}}")
    if (STATE / f"fail__{{task_id}}__{{ds}}").exists():
        raise RuntimeError(f"{{task_id}} fails on {{ds}} (failure switch)")


def hang_once(ds, task_id, try_number):
    """The first try announces itself and hangs until stopped; later tries return."""
    record(f"start {{task_id}} {{ds}} try={{try_number}}")
    if try_number == 1:
        time.sleep(60)
    record(f"end {{task_id}} {{ds}} try={{try_number}}")
'''


def bash_work(state: Path) -> str:
    """Bash version of `work`: the command line is what a dry run must show rendered."""
    return (
        f'echo "{{{{ task_id }}}} {{{{ ds }}}}" >> {state}/executions.log && '
        f"test ! -e {state}/fail__{{{{ task_id }}}}__{{{{ ds }}}}"
    )


DAGS: dict[str, str] = {
    # AIRFLOW_SEMANTICS section 7: a >> b >> c, @daily, bash tasks with failure switches.
    "chain": """
with DAG("chain", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    a = BashTask("a", bash_command=BASH_WORK)
    b = BashTask("b", bash_command=BASH_WORK)
    c = BashTask("c", bash_command=BASH_WORK)
    a >> b >> c
""",
    # Same shape with python tasks (cheaper, and runs in-process with the sequential executor).
    "pychain": """
with DAG("pychain", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    a = PythonTask("a", work)
    b = PythonTask("b", work)
    c = PythonTask("c", work)
    a >> b >> c
""",
    "dop": """
with DAG("dop", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    p = PythonTask("p", work, depends_on_past=True)
    q = PythonTask("q", work)
    p >> q
""",
    "wfd": """
with DAG("wfd", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    x = PythonTask("x", work, wait_for_downstream=True)
    y = PythonTask("y", work)
    x >> y
""",
    "mar1": """
with DAG("mar1", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True,
         max_active_runs=1) as dag:
    PythonTask("t", work)
""",
    "cron6": """
with DAG("cron6", schedule="0 6 * * *", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    PythonTask("t", work)
""",
    "unscheduled": """
with DAG("unscheduled", schedule=None, start_date=datetime(2024, 1, 1)) as dag:
    PythonTask("t", work)
""",
    "retry": """
def flaky_once(ds, task_id):
    record(f"{{task_id}} {{ds}}")
    marker = STATE / f"flaky_failed_once__{{ds}}"
    if not marker.exists():
        marker.touch()
        raise RuntimeError("flaky fails the first time")


def fail_always(ds, task_id):
    record(f"{{task_id}} {{ds}}")
    raise RuntimeError("always fails")


with DAG("retry", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True,
         default_args={{"retries": 1, "retry_delay": timedelta(seconds=1)}}) as dag:
    PythonTask("flaky", flaky_once)
    PythonTask("always_fails", fail_always)
""",
    "d_trig": """
RULES = ["all_success", "all_failed", "all_done", "one_success", "one_failed", "one_done",
         "none_failed", "none_failed_min_one_success", "none_skipped", "all_skipped", "always"]
with DAG("d_trig", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    bad = PythonTask("bad", work)
    good = PythonTask("good", work)
    for rule in RULES:
        [bad, good] >> PythonTask(rule, work, trigger_rule=rule)
    dag.tasks["all_success"] >> PythonTask("after", work)
""",
    # Conf and params reach templates: dag_run.conf and params (conf overrides params).
    "templ": """
with DAG("templ", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True,
         params={{"who": "nobody", "n": 5}}) as dag:
    BashTask("show", bash_command=(
        "echo '{{{{ ds }}}} who={{{{ params.who }}}} n={{{{ params.n }}}} "
        "conf={{{{ dag_run.conf | tojson }}}}' >> {state}/executions.log"
    ))
""",
    # Seed example: `dags backfill -t some_task some_dag -s 2022-09-01T00:10:00 -e 2022-09-01T12:10:00`.
    "some_dag": """
with DAG("some_dag", schedule="10 * * * *", start_date=datetime(2022, 9, 1), catchup=True) as dag:
    up = PythonTask("upstream_task", work)
    some = PythonTask("some_task", work)
    down = PythonTask("downstream_task", work)
    up >> some >> down
""",
    # Four dates whose single task sleeps in a 1-slot pool.
    "pooled": """
with DAG("pooled", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    PythonTask("work", timed, op_kwargs={{"seconds": "0.3"}}, pool="serial")
""",
    # No pool: the same sleeping task, to show that it does overlap without one.
    "parallel": """
with DAG("parallel", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    PythonTask("work", timed, op_kwargs={{"seconds": "0.3"}})
""",
    "mat2": """
with DAG("mat2", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True,
         max_active_tasks=2) as dag:
    PythonTask("work", timed, op_kwargs={{"seconds": "0.3"}})
""",
    "king": """
with DAG("king", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    PythonTask("t", work, pool="king_pool")
""",
    # Tasks that take a while: a backfill can be signalled mid-run.
    "sleepy": """
with DAG("sleepy", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    a = PythonTask("a", slow, op_kwargs={{"seconds": "0.25"}})
    b = PythonTask("b", slow, op_kwargs={{"seconds": "0.25"}})
    c = PythonTask("c", slow, op_kwargs={{"seconds": "0.25"}})
    a >> b >> c
""",
    "timeout": """
with DAG("timeout", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    PythonTask("hangs", slow, op_kwargs={{"seconds": "30"}},
               execution_timeout=timedelta(seconds=1))
    BashTask("bash_hangs", bash_command="sleep 30", execution_timeout=timedelta(seconds=1))
""",
    # Records the process id of every try: which process ran it.
    "whereami": """
def where(ds, task_id):
    record(f"{{task_id}} {{ds}} {{os.getpid()}}")


with DAG("whereami", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    PythonTask("a", where) >> PythonTask("b", where)
""",
    # Task `edit` changes the DAG file it is defined in: later tries see different code.
    "selfedit": """
def edit(ds, task_id):
    record(f"{{task_id}} {{ds}}")
    with open(__file__, "a") as f:
        f.write("\\n# edited by a task\\n")


with DAG("selfedit", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    PythonTask("edit", edit) >> PythonTask("after", work)
""",
    "dop_nocatchup": """
with DAG("dop_nocatchup", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=False) as dag:
    p = PythonTask("p", work, depends_on_past=True)
    q = PythonTask("q", work)
    p >> q
""",
    # Skipped upstreams: s1, s2 (all_failed after a success) always end skipped.
    "d_skip": """
with DAG("d_skip", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    good = PythonTask("good", work)
    s1 = PythonTask("s1", work, trigger_rule="all_failed")
    s2 = PythonTask("s2", work, trigger_rule="all_failed")
    good >> [s1, s2]
    [s1, s2] >> PythonTask("one_success_all_skipped", work, trigger_rule="one_success")
    [s1, s2] >> PythonTask("nfmos_all_skipped", work, trigger_rule="none_failed_min_one_success")
    [s1, good] >> PythonTask("nfmos_one_success", work, trigger_rule="none_failed_min_one_success")
    [s1, good] >> PythonTask("none_skipped", work, trigger_rule="none_skipped")
    s1 >> PythonTask("all_success_after_skip", work) >> PythonTask("grandchild", work)
    [s1, s2] >> PythonTask("all_skipped", work, trigger_rule="all_skipped")
""",
    # `always` must not wait for its long-running upstream.
    "d_always": """
with DAG("d_always", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    PythonTask("long", timed, op_kwargs={{"seconds": "1.5"}}) >> PythonTask(
        "eager", timed, op_kwargs={{"seconds": "0"}}, trigger_rule="always")
""",
    # A task that ends its process the way scripts do: sys.exit(3).
    "exits": """
import sys


def bye(ds, task_id):
    record(f"{{task_id}} {{ds}}")
    sys.exit(3)


with DAG("exits", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    PythonTask("bye", bye) >> PythonTask("after", work)
""",
    # Midnight in Amsterdam: 23:00Z in winter.
    "ams": """
with DAG("ams", schedule="0 0 * * *", start_date=datetime(2024, 1, 1), catchup=True,
         timezone="Europe/Amsterdam") as dag:
    PythonTask("t", work)
""",
    "noisy": """
def shout(ds):
    print(f"hello from {{ds}}")


with DAG("noisy", schedule="@daily", start_date=datetime(2024, 1, 1), catchup=True) as dag:
    PythonTask("py", shout)
    BashTask("sh", bash_command="echo bash says {{{{ ds }}}}")
""",
}
