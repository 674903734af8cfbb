"""The floor, live: server-sent events carrying the tiles and alerts that changed, drawn by the server.

The server renders each changed tile and the alert list with the same
autoescaping templates as the page, so the browser only swaps elements and
never builds HTML from broker data. A burst of messages (50 kiosks' reps and
cues) is drawn once per `COALESCE_S`; a comment every `KEEPALIVE_S` keeps
proxies from closing a quiet stream.
"""

import asyncio
import json
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from kiosk.console.web import TEMPLATES, Who, console_of, floor_context, who

COALESCE_S = 0.05
KEEPALIVE_S = 15.0


async def stream(request: Request) -> Response:
    me = who(request)
    if me is None:
        return JSONResponse({"error": "sign in first"}, status_code=401)
    return StreamingResponse(_events(request, me), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def _events(request: Request, me: Who) -> AsyncIterator[str]:
    console = console_of(request)
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()

    def woken() -> None:  # on the MQTT link's thread: only hand over to this loop
        loop.call_soon_threadsafe(wake.set)

    stop_listening = console.floor.on_change(woken)
    drawn: dict[str, int] = {}
    alerts_drawn = -1
    try:
        while True:
            tiles = {}
            for tile in console.floor.tiles():
                if drawn.get(tile.machine) != tile.version:
                    drawn[tile.machine] = tile.version
                    tiles[tile.machine] = _render("_tile.html", {"tile": tile, "me": me})
            message: dict[str, object] = {"tiles": tiles}
            version = console.floor.alerts_version
            if version != alerts_drawn:
                alerts_drawn = version
                message["alerts"] = _render("_alerts.html", {**floor_context(console), "me": me})
            if tiles or "alerts" in message:
                yield f"event: floor\ndata: {json.dumps(message)}\n\n"
            try:
                await asyncio.wait_for(wake.wait(), KEEPALIVE_S)
            except TimeoutError:
                if await request.is_disconnected():
                    return
                yield ": still here\n\n"
                continue
            wake.clear()
            if await request.is_disconnected():
                return
            await asyncio.sleep(COALESCE_S)  # let a burst settle; drawn once
    finally:
        stop_listening()


def _render(name: str, context: dict[str, object]) -> str:
    return TEMPLATES.get_template(name).render(context)
