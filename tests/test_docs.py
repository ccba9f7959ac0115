"""The project explains itself: its architecture page holds the policy as the code has it, and cites nothing outside."""

from __future__ import annotations

from pathlib import Path

from db.settings import ROOT
from web.cli import ARCHITECTURE, with_policy_tables

OWN_TEXT = ("*.md", "*.py", "*.js", "*.svelte", "*.jinja", "*.html", "Makefile", "*.toml", "*.sh")
SKIPPED = {".venv", "node_modules", "var", "dist", ".git"}
# Spelled in two parts so that this file does not cite them itself.
OUTSIDE = ("DESIGN" + ".md", "../" + "shared")


def test_the_architecture_page_holds_the_policy_tables_as_the_code_has_them() -> None:
    text = ARCHITECTURE.read_text()
    assert with_policy_tables(text) == text, "docs/architecture.md is stale: run `make docs` and review the diff"
    assert "| SEEKER_CONTACT |" in text and "| SET_STATUS |" in text


def _own_files() -> list[Path]:
    return [
        path
        for pattern in OWN_TEXT
        for path in ROOT.rglob(pattern)
        if path.is_file() and not SKIPPED & set(path.relative_to(ROOT).parts)
    ]


def test_nothing_cites_documents_a_clone_does_not_have() -> None:
    citing = [str(p.relative_to(ROOT)) for p in _own_files() if any(name in p.read_text() for name in OUTSIDE)]
    assert citing == [], f"these cite documents outside the project: {citing}"
