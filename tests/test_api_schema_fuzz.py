"""schemathesis against the server's own /openapi.json: generated calls to every endpoint (as admin, over
a database with finished runs) give no 500 and answers that match the schema, status codes and types."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,"
          "response_headers_conformance")
EXAMPLES = os.environ.get("LEDGERFLOW_FUZZ_EXAMPLES", "5")


@pytest.mark.skipif(shutil.which("schemathesis", path=str(Path(sys.executable).parent)) is None,
                    reason="schemathesis is not installed")
def test_generated_calls_give_no_500_and_answers_match_the_schema(api, tmp_path):
    config = tmp_path / "schemathesis.toml"  # the fixture's run, so that calls reach past the 404s
    config.write_text('[parameters]\n"path.dag_id" = "pychain"\n'
                      '"path.dag_run_id" = "backfill__2024-01-01T00:00:00+00:00"\n"path.task_id" = "b"\n')
    command = [str(Path(sys.executable).parent / "schemathesis"), "--config-file", str(config), "run",
               f"{api.url}/openapi.json",
               "-H", f"Authorization: Bearer {api.token('admin')}", "--checks", CHECKS,
               "--max-examples", EXAMPLES, "--phases", "examples,coverage,fuzzing", "--workers", "1",
               "--exclude-path-regex", "/export$", "--no-color", "--request-timeout", "30",
               "--suppress-health-check", "all"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)  # its cache there
    Path(os.environ.get("LEDGERFLOW_FUZZ_REPORT", os.devnull)).write_text(done.stdout + done.stderr)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
