"""How uvicorn serves the app, the same for `referloop serve`, the tests and the benches."""

from __future__ import annotations

import gc
from typing import Any

# websockets' Sans-I/O protocol: uvicorn drives it from the connection's own callbacks, where the
# legacy protocol (uvicorn's default until it moves) keeps three tasks and their locks per socket.
WEBSOCKETS = "websockets-sansio"
# Off: per-message deflate keeps a zlib stream each way on every socket (about 35 KB an idle
# dashboard) to shrink frames of a kilobyte or two; ten thousand dashboards would spend 350 MB.
PER_MESSAGE_DEFLATE = False

UVICORN_OPTIONS: dict[str, Any] = {"ws": WEBSOCKETS, "ws_per_message_deflate": PER_MESSAGE_DEFLATE}


def uvicorn_arguments() -> list[str]:
    """UVICORN_OPTIONS as `python -m uvicorn` takes them."""
    return ["--ws", WEBSOCKETS, "--ws-per-message-deflate", str(PER_MESSAGE_DEFLATE).lower()]


# The garbage collector's thresholds while serving (CPython's defaults: 700, 10, 10). A process
# holding thousands of live sockets holds millions of long-lived objects, and every fan-out makes
# tens of thousands of short-lived ones; with the defaults, young collections ran often enough to
# promote those into the oldest generation, whose full collections (half a second and more at
# 10,000 dashboards) stalled every push behind them. Collecting the young generation after 200,000
# new objects rather than 700 leaves most of them freed by their reference counts first: at 10,000
# dashboards p99 from sending a change went from 3.0 s to 0.6 s and CPU per change halved
# (bench/fanout.py). Garbage in reference cycles waits a little longer, a few MB at most.
COLLECTOR_THRESHOLDS = (200_000, 50, 100)


def tune_collector() -> None:
    """Set COLLECTOR_THRESHOLDS for this process (the app does as it starts)."""
    gc.set_threshold(*COLLECTOR_THRESHOLDS)
