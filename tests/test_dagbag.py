"""Loading DAG files: broken files, fingerprints, the DAG folder setting and -S."""

import hashlib
import json
import textwrap
from pathlib import Path

import pytest
from dagfiles import cli

from ledgerflow.engine.authoring.dagbag import fingerprint_of, load_dag, load_dagbag
from ledgerflow.engine.errors import BrokenDagFile, DagNotFound, InvalidInput

GOOD = """
from datetime import datetime
from ledgerflow import DAG, EmptyTask
with DAG("{dag_id}", schedule="@daily", start_date=datetime(2024, 1, 1)) as dag:
    EmptyTask("a") >> EmptyTask("b")
"""


def write(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    return path


def good(folder: Path, dag_id: str, name: str | None = None) -> Path:
    return write(folder, name or f"{dag_id}.py", GOOD.format(dag_id=dag_id))


def test_every_dag_in_the_folder_and_its_subfolders_is_loaded(tmp_path):
    good(tmp_path, "one")
    good(tmp_path, "two", "nested/deeper/two.py")
    bag = load_dagbag(tmp_path)
    assert sorted(bag.dags) == ["one", "two"] and bag.errors == {}
    assert bag.dags["two"].task_ids == ["a", "b"]
    assert bag.dags["two"].fileloc == str((tmp_path / "nested/deeper/two.py").resolve())


def test_files_starting_with_underscore_or_dot_are_not_dag_files(tmp_path):
    good(tmp_path, "hidden", "_helpers.py")
    good(tmp_path, "dotted", ".scratch.py")
    write(tmp_path, "notes.txt", "not python")
    assert load_dagbag(tmp_path).dags == {}


def test_the_fingerprint_is_the_sha256_of_the_file_bytes(tmp_path):
    path = good(tmp_path, "one")
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    assert fingerprint_of(path) == expected
    assert load_dag(tmp_path, "one").fingerprint == expected


def test_changing_one_byte_of_the_file_changes_the_fingerprint(tmp_path):
    path = good(tmp_path, "one")
    before = load_dag(tmp_path, "one").fingerprint
    path.write_text(path.read_text() + "\n")
    after = load_dag(tmp_path, "one").fingerprint
    assert before != after == hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_dag_of_a_file_shares_the_files_fingerprint_subdags_included(tmp_path):
    path = write(tmp_path, "parent.py", """
        from ledgerflow import DAG, EmptyTask, SubDagTask
        child = DAG("parent.section")
        with child:
            EmptyTask("inner")
        with DAG("parent") as dag:
            SubDagTask("section", subdag=child) >> EmptyTask("after")
        with DAG("sibling") as other:
            EmptyTask("x")
    """)
    bag = load_dagbag(tmp_path)
    assert sorted(bag.dags) == ["parent", "parent.section", "sibling"]
    assert {d.fingerprint for d in bag.dags.values()} == {fingerprint_of(path)}


def test_a_dag_used_only_as_a_context_manager_is_found_without_a_module_variable(tmp_path):
    write(tmp_path, "unnamed.py", """
        from ledgerflow import DAG, EmptyTask
        with DAG("unnamed", schedule="@daily"):
            EmptyTask("a")
    """)
    assert load_dag(tmp_path, "unnamed").task_ids == ["a"]


def test_a_broken_dag_file_is_reported_with_its_path_and_error_and_the_others_still_load(tmp_path):
    good(tmp_path, "fine")
    broken = write(tmp_path, "broken.py", "from ledgerflow import DAG\nraise RuntimeError('no db')\n")
    bag = load_dagbag(tmp_path)
    assert list(bag.dags) == ["fine"]
    assert bag.errors == {str(broken): "RuntimeError: no db"}


@pytest.mark.parametrize(("source", "error"), [
    ("from ledgerflow import DAG\ndef broken(:\n", "SyntaxError"),
    ("from ledgerflow import DAG\nimport not_a_module_anywhere\n", "ModuleNotFoundError"),
    ("from ledgerflow import DAG\nimport sys\nsys.exit(3)\n", "SystemExit"),
    ("from ledgerflow import DAG, EmptyTask\nwith DAG('d'):\n    EmptyTask('a', trigger_rule='x')\n",
     "unknown trigger_rule 'x'"),
    ("from ledgerflow import DAG, EmptyTask\nwith DAG('d'):\n    a = EmptyTask('a')\n    a >> a\n",
     "cycle through a"),
])
def test_each_kind_of_broken_file_is_reported_never_raised(tmp_path, source, error):
    path = write(tmp_path, "bad.py", source)
    bag = load_dagbag(tmp_path)
    assert bag.dags == {}
    assert error in bag.errors[str(path)]



def test_a_multi_line_error_is_reported_on_one_line(tmp_path):
    path = write(tmp_path, "bad.py", "from ledgerflow import DAG\nraise ValueError('first line\\n  second line')\n")
    assert load_dagbag(tmp_path).errors == {str(path): "ValueError: first line second line"}


def test_asking_for_a_dag_when_a_file_is_broken_names_the_file_and_its_error(tmp_path):
    path = write(tmp_path, "d.py", "from ledgerflow import DAG\nDAG('d')\n1 / 0\n")
    with pytest.raises(BrokenDagFile) as refused:
        load_dag(tmp_path, "d")
    assert str(path) in str(refused.value)
    assert "ZeroDivisionError: division by zero" in str(refused.value)
    assert isinstance(refused.value, InvalidInput)


def test_an_unknown_dag_in_a_healthy_folder_is_dag_not_found(tmp_path):
    good(tmp_path, "one")
    with pytest.raises(DagNotFound, match="'nope' not found"):
        load_dag(tmp_path, "nope")


def test_a_missing_folder_is_dag_not_found(tmp_path):
    with pytest.raises(DagNotFound, match="does not exist"):
        load_dagbag(tmp_path / "nowhere")


def test_a_single_file_can_be_given_instead_of_a_folder(tmp_path):
    path = good(tmp_path, "one")
    good(tmp_path, "two")
    assert list(load_dagbag(path).dags) == ["one"]


def test_the_dags_list_command_reports_a_broken_file_on_stderr_and_lists_the_rest(tmp_path):
    good(tmp_path, "fine")
    broken = write(tmp_path, "broken.py", "from ledgerflow import DAG\nraise ValueError('bad config')\n")
    result = cli("dags", "list", "-S", str(tmp_path), "-o", "json")
    assert result.exit_code == 0
    assert [d["dag_id"] for d in json.loads(result.stdout)] == ["fine"]
    assert result.stderr.strip() == f"Broken DAG file {broken}: ValueError: bad config"


def test_the_dags_folder_comes_from_ledgerflow_dags_folder(tmp_path, monkeypatch):
    good(tmp_path / "configured", "from_env")
    monkeypatch.setenv("LEDGERFLOW_DAGS_FOLDER", str(tmp_path / "configured"))
    result = cli("dags", "list", "-o", "json")
    assert result.exit_code == 0, result.output
    assert [d["dag_id"] for d in json.loads(result.stdout)] == ["from_env"]


def test_subdir_overrides_ledgerflow_dags_folder(tmp_path, monkeypatch):
    good(tmp_path / "configured", "from_env")
    good(tmp_path / "given", "from_flag")
    monkeypatch.setenv("LEDGERFLOW_DAGS_FOLDER", str(tmp_path / "configured"))
    for flag in ("-S", "--subdir"):
        args = ["dags", "list", flag, str(tmp_path / "given"), "-o", "json"]
        result = cli(*args)
        assert result.exit_code == 0, result.output
        assert [d["dag_id"] for d in json.loads(result.stdout)] == ["from_flag"]


def test_without_the_setting_the_dags_folder_is_dags_in_the_working_directory(
    tmp_path, monkeypatch
):
    good(tmp_path / "dags", "local")
    monkeypatch.delenv("LEDGERFLOW_DAGS_FOLDER", raising=False)
    monkeypatch.chdir(tmp_path)
    result = cli("dags", "list", "-o", "json")
    assert result.exit_code == 0, result.output
    assert [d["dag_id"] for d in json.loads(result.stdout)] == ["local"]
