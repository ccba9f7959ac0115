"""Figures the hostile tests measure, printed at the end of the run (conftest's terminal summary)."""

from __future__ import annotations

FIGURES: list[str] = []


def report(line: str) -> None:
    """Keep a line for the run's summary; the lead quotes these in the bench notes."""
    FIGURES.append(line)
