"""The supervisor the Procfile wraps every process in: real child processes, real signals."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.processes import wait_for

pytestmark = pytest.mark.slow


def supervisor(tmp_path, script: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "genesys.supervise", "demo", "--", sys.executable, "-c", script],
        stderr=open(tmp_path / "supervise.log", "w"),  # the child process owns it
        cwd=str(tmp_path.parent),
        env={"PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )


def test_a_process_that_exits_is_restarted_with_growing_backoff_and_logged(tmp_path):
    starts = tmp_path / "starts"
    script = f"open({str(starts)!r}, 'a').write('x'); raise SystemExit(3)"
    process = supervisor(tmp_path, script)
    try:
        wait_for(lambda: starts.exists() and len(starts.read_text()) >= 3, timeout=60, what="three starts")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    log = (tmp_path / "supervise.log").read_text()
    assert "exited with code 3" in log
    assert "restarting in 1 s" in log and "restarting in 2 s" in log


def test_sigterm_is_passed_once_to_the_child_which_may_finish_its_work(tmp_path):
    marker = tmp_path / "terms"
    script = (
        "import os, signal, time, sys\n"
        f"def term(*_): open({str(marker)!r}, 'a').write('t')\n"
        "signal.signal(signal.SIGTERM, term)\n"
        f"open({str(marker)!r} + '.up', 'w').write('up')\n"
        f"while not os.path.exists({str(marker)!r}):\n"
        "    time.sleep(0.05)\n"
        "time.sleep(0.5)\n"
        "sys.exit(0)\n"
    )
    process = supervisor(tmp_path, script)
    wait_for(lambda: (tmp_path / "terms.up").exists(), timeout=60, what="the child to start")
    process.send_signal(signal.SIGTERM)
    time.sleep(0.1)
    process.send_signal(signal.SIGTERM)  # a second request is not a second signal to the child
    assert process.wait(timeout=30) == 0
    assert marker.read_text() == "t"
    assert "stopped (exit code 0)" in (tmp_path / "supervise.log").read_text()


def test_a_killed_supervisor_leaves_no_orphan(tmp_path):
    pid_file = tmp_path / "child.pid"
    script = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(300)"
    process = supervisor(tmp_path, script)
    wait_for(lambda: pid_file.exists() and pid_file.read_text(), timeout=60, what="the child to start")
    child = int(pid_file.read_text())
    process.kill()
    process.wait(timeout=30)

    def gone() -> bool:
        try:
            with open(f"/proc/{child}/stat") as stat:
                return stat.read().rsplit(")", 1)[1].split()[0] == "Z"  # a zombie awaiting init
        except OSError:
            return True

    wait_for(gone, timeout=30, what="the orphaned child to stop")
