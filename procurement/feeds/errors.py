"""The one exception a feed read raises, so callers never see ``requests`` or parser internals."""

from __future__ import annotations

from typing import Literal

Phase = Literal["download", "parse"]


class FeedReadError(Exception):
    """A read stopped early. The message is for operators and never carries a credential.

    ``phase`` says where it stopped: ``"download"`` (configuration, network, HTTP, size limits,
    pagination) or ``"parse"`` (the body or the mapper profile could not be read).
    """

    def __init__(self, message: str, *, phase: Phase) -> None:
        super().__init__(message)
        self.message = message
        self.phase = phase

    def __str__(self) -> str:
        return self.message
