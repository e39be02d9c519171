"""
What the decorator tests share: the operator tests' fixtures (quick sandbox jobs, the killed-then-retried run),
and a way to count how often a decorated function ran, across task processes and tries.
"""

from __future__ import annotations

from pathlib import Path

from tests.operators.conftest import killed_then_retried, quick_jobs

__all__ = ["Calls", "killed_then_retried", "quick_jobs"]


class Calls:
    """A file that each call of a decorated function adds a line to: how often it ran, whatever the process."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "calls.txt"

    def record(self, what: str) -> None:
        """Note one call."""
        with self.path.open("a") as out:
            out.write(what + "\n")

    def count(self) -> int:
        """Return how many calls were noted."""
        return len(self.path.read_text().splitlines()) if self.path.exists() else 0
