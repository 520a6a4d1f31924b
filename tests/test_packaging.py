"""One installed package: `ledgerflow` and nothing else top-level, editable or not, and a DAG
folder's own helper modules (even ones named engine, cli, projections) import beside their DAGs."""

from __future__ import annotations

import os
import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

HELPERS = {
    "engine.py": "def rows(ds):\n    return f'engine rows for {ds}'\n",
    "cli.py": "WORD = 'cli helper'\n",
    "projections.py": "WORD = 'projections helper'\n",
    "helpers/__init__.py": "from .fmt import stamp\n",
    "helpers/fmt.py": "def stamp(text):\n    return f'<{text}>'\n",
}
DAG_FILE = '''
from datetime import datetime
from pathlib import Path

import cli
import engine
import projections
from helpers import stamp

from ledgerflow import DAG, PythonTask

OUT = Path(__file__).parent / "out.txt"


def work(ds):
    import helpers.fmt  # imported while the task runs, not only while the file loads

    with OUT.open("a") as f:
        f.write(helpers.fmt.stamp(engine.rows(ds)) + f" {cli.WORD} {projections.WORD}\\n")


with DAG("uses_helpers", schedule="@daily", start_date=datetime(2024, 1, 1)):
    PythonTask("work", python_callable=work)
'''


def _dag_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "dags"
    for name, text in {**HELPERS, "uses_helpers.py": DAG_FILE}.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def _dependencies(tmp_path: Path) -> Path:
    """This environment's installed packages without ledgerflow itself, linked into one folder,
    so a new virtualenv can use them without downloading them or seeing this ledgerflow."""
    deps = tmp_path / "dependencies"
    deps.mkdir()
    for root in [sysconfig.get_paths()["purelib"], *site.getsitepackages()]:
        for entry in Path(root).iterdir():
            ours = entry.name.startswith(("ledgerflow", "__editable__")) or entry.suffix == ".pth"
            if not ours and not (deps / entry.name).exists():
                (deps / entry.name).symlink_to(entry)
    return deps


def _fresh_venv(tmp_path: Path, *install: str) -> Path:
    """A new virtualenv with ledgerflow installed as given and this environment's dependencies."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    (Path(purelib) / "zz_test_dependencies.pth").write_text(f"{_dependencies(tmp_path)}\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                    "--no-build-isolation", *install], check=True, cwd=REPO, timeout=300)
    return python


def _run(python: Path, *args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(python), *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def _own_top_level(python: Path, cwd: Path) -> list[str]:
    """What the venv's own site-packages holds besides pip's and the test's own files."""
    code = ("import sysconfig, os; p = sysconfig.get_paths()['purelib']; "
            "print('\\n'.join(sorted(os.listdir(p))))")
    names = _run(python, "-c", code, cwd=cwd).stdout.split()
    return [n for n in names if not n.startswith(("zz_test_", "__pycache__"))]


def test_the_wheel_holds_the_ledgerflow_package_and_nothing_else_top_level(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(tmp_path), str(REPO)], check=True, timeout=300)
    (wheel,) = tmp_path.glob("ledgerflow-*.whl")
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"ledgerflow"}
    names = zipfile.ZipFile(wheel).namelist()
    assert "ledgerflow/engine/application/service.py" in names
    assert "ledgerflow/sql/001_views.sql" in names
    assert not [n for n in names if "/tests/" in n or n.startswith("ledgerflow/examples")]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    return _fresh_venv(tmp_path_factory.mktemp("installed"), str(REPO))


def test_a_plain_install_puts_only_ledgerflow_into_site_packages_and_no_engine_module(installed, tmp_path):
    assert [n for n in _own_top_level(installed, tmp_path) if not n.endswith(".dist-info")] == ["ledgerflow"]
    refused = _run(installed, "-c", "import engine", cwd=tmp_path)
    assert refused.returncode != 0 and "ModuleNotFoundError" in refused.stderr
    shown = _run(installed, "-c", "import ledgerflow, sys; print(ledgerflow.__file__); print(ledgerflow.DAG)",
                 cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "site-packages/ledgerflow/__init__.py" in shown.stdout


def test_the_checkout_folders_cannot_be_imported_as_top_level_packages(installed):
    for name in ("engine", "cli", "projections"):
        refused = _run(installed, "-c", f"import {name}", cwd=REPO)
        assert refused.returncode != 0
        assert f"it is ledgerflow.{name}" in refused.stderr


def test_a_dag_folder_with_engine_cli_projections_and_helpers_modules_backfills_with_them(
        installed, tmp_path, database_url):
    folder = _dag_folder(tmp_path)
    ledgerflow = installed.parent / "ledgerflow"
    done = subprocess.run([str(ledgerflow), "dags", "backfill", "uses_helpers", "-S", str(folder),
                           "-s", "2024-01-01", "-e", "2024-01-02", "-y"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "LEDGERFLOW_DATABASE_URL": database_url,
                                                       "LEDGERFLOW_HOME": str(tmp_path / "home")})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert sorted((folder / "out.txt").read_text().splitlines()) == [
        "<engine rows for 2024-01-01> cli helper projections helper",
        "<engine rows for 2024-01-02> cli helper projections helper",
    ]
    listed = subprocess.run([str(ledgerflow), "dags", "list", "-S", str(folder), "-o", "json"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "LEDGERFLOW_DATABASE_URL": database_url})
    assert listed.returncode == 0 and "Broken DAG file" not in listed.stderr, listed.stderr


def test_an_editable_install_imports_ledgerflow_from_the_checkout(tmp_path):
    python = _fresh_venv(tmp_path, "-e", str(REPO))
    assert [n for n in _own_top_level(python, tmp_path) if n.startswith(("engine", "cli", "projections"))] == []
    shown = _run(python, "-c", "import ledgerflow.engine.application.service as s; print(s.__file__)", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == str(REPO / "engine" / "application" / "service.py")
    version = _run(python, "-m", "ledgerflow.cli", "--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("ledgerflow "), version.stderr
    assert _run(python, "-c", "import engine", cwd=tmp_path).returncode != 0
