"""DAG discovery as Airflow does it: .airflowignore (regexp or glob), several DAGs per file, DAGs made in
loops through globals(), and no safe-mode heuristic (a file need not mention "airflow" and "dag")."""

from __future__ import annotations

import pytest
from airflow_corpus import dag_folder
from cli_runner import cli_json

DAG_FILE = ("from airflow import DAG\nfrom airflow.operators.empty import EmptyOperator\n"
            "with DAG({dag_id!r}, schedule=None):\n    EmptyOperator(task_id='t')\n")


def _listed(folder) -> list[str]:
    return sorted(d["dag_id"] for d in cli_json("dags", "list", "-S", str(folder), "-o", "json"))


def _tree(tmp_path):
    folder = tmp_path / "dags"
    for rel in ("keep.py", "scratch_one.py", "vendor/lib.py", "team/keep_too.py", "team/tmp/old.py"):
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(DAG_FILE.format(dag_id=path.stem))
    return folder


def test_several_dags_in_one_file_and_dags_bound_through_globals_all_load(tmp_path):
    folder = dag_folder(tmp_path, "several_dags")
    assert _listed(folder) == ["first_of_two", "generated_alpha", "generated_beta", "rebound_delta",
                               "second_of_two"]  # a name rebound in a loop keeps only its last DAG


def test_an_airflowignore_in_regexp_syntax_leaves_out_matching_paths(tmp_path, monkeypatch):
    monkeypatch.delenv("LEDGERFLOW_AIRFLOW_COMPAT", raising=False)
    folder = _tree(tmp_path)
    (folder / ".airflowignore").write_text("# scratch files and vendored code\nscratch_.*\nvendor\n[invalid(\n")
    (folder / "team" / ".airflowignore").write_text("tmp/\n")
    assert _listed(folder) == ["keep", "keep_too"]


def test_an_airflowignore_in_glob_syntax_follows_gitignore_rules(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW__CORE__DAG_IGNORE_FILE_SYNTAX", "glob")
    folder = _tree(tmp_path)
    (folder / ".airflowignore").write_text("scratch_*.py\nvendor/\n*.py\n!keep*.py\n")
    (folder / "team" / ".airflowignore").write_text("/tmp/\n")
    assert _listed(folder) == ["keep", "keep_too"]


def test_airflow_3_mode_reads_an_airflowignore_as_glob(tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGERFLOW_AIRFLOW_COMPAT", "3")
    folder = _tree(tmp_path)
    (folder / ".airflowignore").write_text("*_one.py\n")  # an invalid regexp, skipped in regexp syntax
    assert _listed(folder) == ["keep", "keep_too", "lib", "old"]


@pytest.mark.parametrize("syntax", ["regexp", "glob"])
def test_without_an_airflowignore_every_file_loads(tmp_path, monkeypatch, syntax):
    monkeypatch.setenv("AIRFLOW__CORE__DAG_IGNORE_FILE_SYNTAX", syntax)
    assert _listed(_tree(tmp_path)) == ["keep", "keep_too", "lib", "old", "scratch_one"]


def test_a_file_that_never_says_airflow_or_dag_still_loads(tmp_path):
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "builders.py").write_text(
        "from airflow import DAG\nfrom airflow.operators.empty import EmptyOperator\n"
        "def build(name):\n    with DAG(name, schedule=None) as made:\n        EmptyOperator(task_id='t')\n"
        "    return made\n")
    (folder / "factory.py").write_text("from builders import build\n\nbuilt = build('built')\n")
    assert _listed(folder) == ["built"]
