"""bench/results.md, assembled from sections that different benches write (each replaces only its own).

A section is the text between `<!-- section: NAME -->` and `<!-- /section: NAME -->`. The order is
SECTIONS'; a section no run has written yet says so, so the table's place for it is plain to see.
"""

from __future__ import annotations

import os
import platform
import re
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.md"
# machine: written by whichever bench ran last. fanout: bench/fanout.py (one process, three servers).
# workers: two workers with Redis beside one process (bench/scaleout.py). writes: status updates
# per second on SQLite and PostgreSQL (bench/writes.py).
SECTIONS = ("machine", "fanout", "workers", "writes", "queries")
_PENDING = {
    "workers": "## Two workers with Redis beside one process\n\n_Not measured yet: bench/scaleout.py writes this section._\n",
    "writes": "## Status updates per second\n\n_Not measured yet: bench/writes.py writes this section._\n",
}
_SECTION = re.compile(r"<!-- section: (?P<name>[\w-]+) -->\n(?P<body>.*?)<!-- /section: (?P=name) -->\n", re.S)


def machine() -> str:
    """CPU model, cores, RAM, Python and OS of this machine."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    system = platform.platform()
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                system = f"{line.split('=', 1)[1].strip(chr(34))} ({platform.system()} {platform.release()})"
    except OSError:
        pass
    load = os.getloadavg()
    return (
        "## Machine\n\n"
        f"- CPU: {cpu}, {os.cpu_count()} cores\n- RAM: {ram}\n- Python {sys.version.split()[0]}\n- OS: {system}\n"
        f"- 1-minute load average at the end of the run: {load[0]:.1f} (other work on the machine skews every figure)\n"
    )


def read() -> dict[str, str]:
    text = RESULTS.read_text() if RESULTS.exists() else ""
    return {m["name"]: m["body"] for m in _SECTION.finditer(text)}


def write_section(name: str, body: str) -> None:
    """Replace one section (and the machine's description), keeping every other bench's."""
    sections = read()
    sections[name] = body if body.endswith("\n") else body + "\n"
    sections["machine"] = machine()
    parts = ["# Benchmark results\n\nWritten by `make bench`; each section by its own bench, on the machine below.\n\n"]
    for section in (*SECTIONS, *sorted(set(sections) - set(SECTIONS))):
        text = sections.get(section, _PENDING.get(section))
        if text is not None:
            parts.append(f"<!-- section: {section} -->\n{text}<!-- /section: {section} -->\n\n")
    RESULTS.write_text("".join(parts).rstrip("\n") + "\n")
