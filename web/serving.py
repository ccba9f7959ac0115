"""How uvicorn serves the app, the same for `referloop serve`, the tests and the benches."""

from __future__ import annotations

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
