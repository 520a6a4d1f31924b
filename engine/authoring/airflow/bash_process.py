"""Running a BashOperator's command: bash from PATH, stderr merged into stdout, every line to the try's
log, the last one kept for XCom; the whole process group is killed if the try is stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping


def run_bash(command: str, env: Mapping[str, str], cwd: str | None, encoding: str) -> tuple[int, str]:
    """(exit code, last output line rstripped) of `bash -c command`."""
    with tempfile.TemporaryDirectory(prefix="airflowtmp") as tmp:
        proc = subprocess.Popen(["bash", "-c", command], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                env=dict(env), cwd=cwd or tmp, start_new_session=True)
        last = ""
        try:
            assert proc.stdout is not None
            for raw in proc.stdout:
                line = raw.decode(encoding, errors="backslashreplace").rstrip("\n")
                sys.stdout.write(line + "\n")
                last = line.rstrip()
            code = proc.wait()
        except BaseException:  # a timeout or an interruption: nothing of the command may outlive the try
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        sys.stdout.flush()
    return code, last
