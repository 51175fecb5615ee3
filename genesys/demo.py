"""Demo data, loaded by ``manage.py load_demo``: each app registers its part.

An app adds a step with ``@demo_step("<name>")`` in its ``demo.py`` (the ``genesys`` app imports
every app's ``demo`` module at start-up), so this module names no app. A step is
``func(*, feeds_root: Path, feed_server_url: str, reset: bool) -> str`` and returns one line for the operator;
it raises ``DemoLoadError`` with what went wrong and how to fix it. Steps run in the order the
apps are installed (procurement's suppliers before the shop's first category sync).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.conf import settings

DEMO_DIR = Path(settings.BASE_DIR) / "demo"
DEMO_FEED_SERVER_PLACEHOLDER = "http://127.0.0.1:8082"

DemoStep = Callable[..., str]
_STEPS: dict[str, DemoStep] = {}


class DemoLoadError(Exception):
    """A demo step could not load its part; ``errors`` are lines for the operator."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def demo_step(name: str) -> Callable[[DemoStep], DemoStep]:
    """Register ``func(*, feeds_root, feed_server_url, reset) -> str`` as the demo step ``name``.

    A step leaves what the operator changed as it is (every ``make run`` calls it); ``reset``
    puts the demo's own settings back."""

    def register(func: DemoStep) -> DemoStep:
        _STEPS[name] = func
        return func

    return register


def demo_steps() -> dict[str, DemoStep]:
    return dict(_STEPS)


def demo_load(*, feeds_root: Path, feed_server_url: str, reset: bool = False) -> list[str]:
    """Run every app's demo step; returns their lines for the operator, in order."""
    return [
        line
        for step in _STEPS.values()
        if (line := step(feeds_root=feeds_root, feed_server_url=feed_server_url, reset=reset))
    ]
