"""camnet's own c2 example: read state, toggle the light over the WebSocket, save a JPEG.

It uses only ``httpx`` and ``websockets`` (both installed with camnet), speaks the c2
dialect exactly as a control unit's clients do, and shows the WebSocket's two kinds of
message: the whole state on connect, then only what changed::

    python examples/c2_light_and_snapshot.py --url http://127.0.0.1:8080 --token TOKEN

``TOKEN`` is the API-User token (printed on first start; ``camnet token rotate`` prints a
new one). ``CAMNET_API_TOKEN`` in the environment works too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from pathlib import Path

import httpx
import websockets


async def main(url: str, token: str) -> bytes:
    """Read, toggle the light, and return a JPEG of the live picture."""
    auth = {"user": "API-User", "token": token}
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        reply = await http.get("/api", params={**auth, "get": "[light0,record,cam0Exists]"})
        reply.raise_for_status()
        print("state:", reply.json())

        socket_url = url.replace("http", "ws", 1) + f"/api?token={token}"
        async with websockets.connect(socket_url) as socket:
            state = json.loads(await socket.recv())  # the whole state, once
            wanted = not state["light0"]
            await socket.send(json.dumps({"light0": wanted}))
            while True:  # then only changes: wait for the light's
                change = json.loads(await socket.recv())
                if change.get("light0") == wanted:
                    print("light0 is now", wanted)
                    break

        image = await http.get("/camera.jpeg", params=auth)
        image.raise_for_status()
        return image.content


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--token", default=os.environ.get("CAMNET_API_TOKEN"))
    parser.add_argument("--output", type=Path, default=Path("snapshot.jpg"))
    args = parser.parse_args()
    if not args.token:
        parser.error("--token (or CAMNET_API_TOKEN) is required")
    jpeg = asyncio.run(main(args.url, args.token))
    args.output.write_bytes(jpeg)
    print(f"saved {len(jpeg)} bytes to {args.output}")
