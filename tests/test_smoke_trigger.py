import json
import textwrap

from typer.testing import CliRunner

from cli.main import app


def test_trigger_then_list_runs_shows_the_queued_manual_run(database_url, tmp_path):
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "d.py").write_text(textwrap.dedent("""
        from datetime import datetime
        from engine import DAG, EmptyTask
        with DAG("d", schedule="@daily", start_date=datetime(2024, 1, 1)) as dag:
            EmptyTask("a") >> EmptyTask("b")
    """))
    runner = CliRunner()
    result = runner.invoke(app, ["dags", "trigger", "d", "-S", str(dags), "-e", "2024-01-02"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["dags", "list-runs", "d", "-o", "json"])
    runs = json.loads(result.stdout)
    assert [(r["run_id"], r["state"], r["run_type"]) for r in runs] == [
        ("manual__2024-01-02T00:00:00+00:00", "queued", "manual")
    ]
