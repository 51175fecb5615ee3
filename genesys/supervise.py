"""Keep one process running: restart it with backoff when it exits, stop it on SIGTERM/SIGINT.

``python -m genesys.supervise NAME -- COMMAND ...`` (the Procfile wraps every process in it):
honcho stops every process as soon as one exits, so a worker that dies would otherwise take the
whole local stack down. The command runs in a session of its own and receives exactly one
SIGTERM (or SIGINT) when the supervisor is asked to stop, so RQ's warm shutdown lets a running
job finish; if the supervisor itself is killed, the command gets SIGTERM from the kernel.
Each exit is logged with its code; restarts wait 1, 2, 4 ... 60 s, back to 1 s after the
command ran for a minute. In production, systemd does this job (docs/workers.md).
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

BACKOFF_MIN = 1.0
BACKOFF_MAX = 60.0
HEALTHY_AFTER = 60.0


def log(name: str, message: str) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    print(f"{stamp} supervise[{name}]: {message}", file=sys.stderr, flush=True)


def _stop_with_parent() -> None:
    """In the child: SIGTERM when the supervisor dies (SIGKILLed), so no orphan keeps running."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the orphan stops when its own work ends or systemd stops it


def supervise(name: str, command: Sequence[str]) -> int:
    stop = threading.Event()
    child: dict[str, subprocess.Popen | None] = {"process": None}
    stop_signal: dict[str, int] = {"number": signal.SIGTERM}

    def on_signal(number: int, _frame: object) -> None:
        if stop.is_set():
            return  # one signal reaches the child: a second SIGTERM is RQ's cold shutdown
        stop.set()
        stop_signal["number"] = number
        process = child["process"]
        if process is not None and process.poll() is None:
            process.send_signal(number)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    delay = BACKOFF_MIN
    while not stop.is_set():
        started = time.monotonic()
        # The operator's own command line (the Procfile, a unit file), run as given.
        child["process"] = process = subprocess.Popen(  # noqa: S603
            list(command), start_new_session=True, preexec_fn=_stop_with_parent
        )
        log(name, f"started pid {process.pid}: {' '.join(command)}")
        if stop.is_set() and process.poll() is None:  # a signal arrived while starting
            process.send_signal(stop_signal["number"])
        code = process.wait()
        ran_for = time.monotonic() - started
        if stop.is_set():
            log(name, f"stopped (exit code {code})")
            return 0
        if ran_for >= HEALTHY_AFTER:
            delay = BACKOFF_MIN  # it ran well: this is a new incident, not the same one again
        log(name, f"exited with code {code} after {ran_for:.1f} s; restarting in {delay:.0f} s")
        if stop.wait(delay):
            log(name, "stopped while waiting to restart")
            return 0
        delay = min(BACKOFF_MAX, delay * 2)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m genesys.supervise", description=__doc__.splitlines()[0])
    parser.add_argument("name", help="the name used in the log lines")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command and its arguments")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("a command to run is required (after --)")
    return supervise(args.name, command)


if __name__ == "__main__":
    sys.exit(main())
