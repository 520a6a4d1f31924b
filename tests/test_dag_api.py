"""The DAG authoring API: dependencies, defaults, validation, subsets."""

from datetime import datetime, timedelta

import pytest

from ledgerflow import DAG, BashTask, EmptyTask, PythonTask, SubDagTask
from ledgerflow.engine.errors import DagDefinitionError


def edges(dag: DAG) -> set[tuple[str, str]]:
    return {(up, tid) for tid, task in dag.tasks.items() for up in task.upstream_task_ids}


def test_rshift_makes_the_right_task_downstream_and_returns_it():
    with DAG("d") as dag:
        a, b, c = EmptyTask("a"), EmptyTask("b"), EmptyTask("c")
        returned = a >> b
        b >> c
    assert returned is b
    assert edges(dag) == {("a", "b"), ("b", "c")}
    assert a.downstream_task_ids == {"b"} and c.upstream_task_ids == {"b"}


def test_lshift_makes_the_right_task_upstream():
    with DAG("d") as dag:
        a, b = EmptyTask("a"), EmptyTask("b")
        returned = b << a
    assert returned is a
    assert edges(dag) == {("a", "b")}


def test_lists_fan_out_and_fan_in_on_either_side_of_the_operators():
    with DAG("d") as dag:
        a, b, c, d, e, f = (EmptyTask(x) for x in "abcdef")
        a >> [b, c] >> d
        [d, e] << f
    assert edges(dag) == {("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("f", "d"), ("f", "e")}


def test_a_list_on_the_left_of_lshift_puts_the_task_upstream_of_each():
    with DAG("d") as dag:
        a, b, c = EmptyTask("a"), EmptyTask("b"), EmptyTask("c")
        c << [a, b]
    assert edges(dag) == {("a", "c"), ("b", "c")}


def test_tasks_of_different_dags_cannot_be_linked():
    with DAG("one"):
        a = EmptyTask("a")
    with DAG("two"):
        b = EmptyTask("b")
    with pytest.raises(DagDefinitionError, match="different DAGs"):
        a >> b


def test_a_task_outside_any_dag_is_refused():
    with pytest.raises(DagDefinitionError, match="not inside a DAG"):
        EmptyTask("lonely")


def test_a_task_can_name_its_dag_explicitly_outside_the_context_manager():
    dag = DAG("d")
    task = EmptyTask("a", dag=dag)
    assert dag.tasks == {"a": task} and task.dag is dag


def test_default_args_apply_to_every_task_unless_the_task_overrides_them():
    defaults = {"retries": 3, "retry_delay": timedelta(minutes=5), "pool": "p", "owner": "ignored"}
    with DAG("d", default_args=defaults):
        inherits = EmptyTask("inherits")
        overrides = EmptyTask("overrides", retries=0, pool=None)
    assert (inherits.retries, inherits.retry_delay, inherits.pool) == (3, timedelta(minutes=5), "p")
    assert (overrides.retries, overrides.pool) == (0, None)
    assert overrides.retry_delay == timedelta(minutes=5)


def test_tasks_get_the_documented_defaults_without_default_args():
    with DAG("d"):
        task = EmptyTask("a")
    assert (task.depends_on_past, task.wait_for_downstream, task.trigger_rule) == (
        False, False, "all_success")
    assert (task.retries, task.retry_delay, task.pool, task.pool_slots, task.execution_timeout) == (
        0, timedelta(0), None, 1, None)


def test_wait_for_downstream_turns_on_depends_on_past():
    with DAG("d"):
        task = EmptyTask("a", wait_for_downstream=True)
    assert task.depends_on_past is True


def test_an_unknown_task_argument_is_refused_with_its_name():
    with DAG("d"), pytest.raises(DagDefinitionError, match="retires"):
        EmptyTask("a", retires=2)


def test_params_and_dag_attributes_are_kept_as_given():
    start = datetime(2024, 1, 1)
    dag = DAG("d", schedule="@daily", start_date=start, catchup=True, params={"factor": 2},
              max_active_runs=3, max_active_tasks=7, timezone="Europe/Berlin", description="x")
    assert dag.params == {"factor": 2}
    assert (dag.schedule, dag.start_date, dag.catchup, dag.timezone, dag.description) == (
        "@daily", start, True, "Europe/Berlin", "x")
    assert (dag.max_active_runs, dag.max_active_tasks) == (3, 7)


def test_params_are_copied_so_later_changes_to_the_callers_dict_do_not_leak_in():
    given = {"factor": 2}
    dag = DAG("d", params=given)
    given["factor"] = 3
    assert dag.params == {"factor": 2}


@pytest.mark.parametrize("rule", ["all_success", "all_failed", "all_done", "one_success",
                                  "one_failed", "one_done", "none_failed",
                                  "none_failed_min_one_success", "none_skipped", "all_skipped",
                                  "always", "all_done_setup_success"])
def test_every_airflow_trigger_rule_is_accepted(rule):
    with DAG("d"):
        assert EmptyTask("a", trigger_rule=rule).trigger_rule == rule


@pytest.mark.parametrize(("alias", "rule"), [
    ("dummy", "always"),
    ("none_failed_or_skipped", "none_failed_min_one_success"),
])
def test_deprecated_trigger_rule_aliases_map_to_their_replacements(alias, rule):
    with DAG("d"):
        assert EmptyTask("a", trigger_rule=alias).trigger_rule == rule


def test_an_unknown_trigger_rule_is_refused_at_definition_time():
    with DAG("d"), pytest.raises(DagDefinitionError, match="unknown trigger_rule 'all_good'"):
        EmptyTask("a", trigger_rule="all_good")


def test_an_unknown_trigger_rule_in_default_args_is_refused_too():
    with DAG("d", default_args={"trigger_rule": "sometimes"}), pytest.raises(DagDefinitionError):
        EmptyTask("a")


def test_a_cycle_is_reported_with_the_tasks_on_it():
    with DAG("d") as dag:
        a, b, c = EmptyTask("a"), EmptyTask("b"), EmptyTask("c")
        EmptyTask("free") >> a
        a >> b >> c >> a
    with pytest.raises(DagDefinitionError, match="cycle through a, b, c"):
        dag.topological_order()


def test_topological_order_puts_upstream_first_and_keeps_declaration_order_for_ties():
    with DAG("d") as dag:
        late, early, z, mid = (EmptyTask(t) for t in ("late", "early", "z", "mid"))
        z >> mid >> late
        early >> late
    order = dag.topological_order()
    assert order == ["early", "z", "mid", "late"]
    assert dag.leaves() == ["late"]


def test_a_duplicate_task_id_is_refused():
    with DAG("d"):
        EmptyTask("a")
        with pytest.raises(DagDefinitionError, match="duplicate task_id 'a'"):
            BashTask("a", bash_command="true")


@pytest.mark.parametrize("bad", ["", "has space", "semi;colon", "slash/y", ".", ".."])
def test_dag_and_task_ids_must_be_plain_identifiers(bad):
    with pytest.raises(DagDefinitionError, match="invalid dag_id"):
        DAG(bad)
    with DAG("d"), pytest.raises(DagDefinitionError, match="invalid task_id"):
        EmptyTask(bad)


def test_an_invalid_schedule_or_timezone_is_refused():
    with pytest.raises(DagDefinitionError, match="invalid schedule"):
        DAG("d", schedule="every day")
    with pytest.raises(DagDefinitionError, match="unknown timezone"):
        DAG("d", schedule="@daily", timezone="Mars/Olympus")


def test_python_task_requires_a_callable_and_copies_op_kwargs():
    kwargs = {"x": "{{ ds }}"}
    with DAG("d"):
        task = PythonTask("p", python_callable=print, op_kwargs=kwargs)
        with pytest.raises(DagDefinitionError, match="not callable"):
            PythonTask("q", python_callable="print")
    kwargs["x"] = "changed"
    assert task.op_kwargs == {"x": "{{ ds }}"}
    assert PythonTask.template_fields == ("op_args", "op_kwargs")
    assert BashTask.template_fields == ("bash_command", "env")


def test_bash_task_keeps_its_command_and_inherits_the_environment_by_default():
    with DAG("d"):
        task = BashTask("b", bash_command="echo {{ ds }}")
    assert task.bash_command == "echo {{ ds }}" and task.env is None


def test_a_subdag_must_be_named_parent_dot_task_id():
    with DAG("parent") as parent:
        child = DAG("parent.section")
        with child:
            EmptyTask("inner")
        task = SubDagTask("section", subdag=child)
    assert child.parent is parent and task.subdag is child


def test_a_wrongly_named_subdag_is_refused_and_leaves_no_task_behind():
    with DAG("parent") as parent:
        with pytest.raises(DagDefinitionError) as refused:
            SubDagTask("section", subdag=DAG("other"))
    assert str(refused.value) == (
        "subdag of 'section' must have dag_id 'parent.section', not 'other'"
    )
    assert parent.tasks == {}


def chain_dag() -> DAG:
    with DAG("chain", schedule="@daily", params={"k": 1}) as dag:
        a, b, c, d = EmptyTask("a"), EmptyTask("b"), EmptyTask("c"), EmptyTask("d")
        a >> b >> c >> d
        a >> d
    return dag


def test_partial_subset_keeps_only_the_selected_tasks_and_edges_among_them():
    dag = chain_dag()
    sub = dag.partial_subset({"b", "c", "d"})
    assert sub.task_ids == ["b", "c", "d"]
    assert edges(sub) == {("b", "c"), ("c", "d")}
    assert sub.tasks["d"].upstream_task_ids == {"c"}
    assert all(task.dag is sub for task in sub.tasks.values())
    assert (sub.dag_id, sub.params, sub.timetable) == (dag.dag_id, dag.params, dag.timetable)


def test_partial_subset_leaves_the_original_dag_untouched():
    dag = chain_dag()
    dag.partial_subset({"a"})
    assert dag.task_ids == ["a", "b", "c", "d"]
    assert edges(dag) == {("a", "b"), ("b", "c"), ("c", "d"), ("a", "d")}
    assert all(task.dag is dag for task in dag.tasks.values())
    assert dag.is_partial is False


def test_partial_subset_is_flagged_partial_only_when_tasks_were_left_out():
    dag = chain_dag()
    assert dag.partial_subset({"a", "b"}).is_partial is True
    assert dag.partial_subset(set(dag.tasks)).is_partial is False
    assert dag.partial_subset({"a", "b"}).partial_subset({"a", "b"}).is_partial is True


def test_relatives_and_match_tasks_select_what_a_task_regex_with_upstream_needs():
    dag = chain_dag()
    selected = dag.match_tasks("^c$")
    assert selected == {"c"}
    assert dag.relatives(selected, upstream=True) == {"a", "b"}
    assert dag.relatives(selected, upstream=False) == {"d"}
    assert dag.match_tasks("[bc]") == {"b", "c"}
