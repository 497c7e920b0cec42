"""An IP camera on a loopback port: ``GET`` answers an endless MJPEG stream
(``multipart/x-mixed-replace``) of one solid colour, as cheap network cameras do. OpenCV
(FFmpeg's ``mpjpeg`` demuxer) reads it as it would a real one."""

from __future__ import annotations

import contextlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import simplejpeg

BOUNDARY = "camnetframe"


def solid_jpeg(rgb: tuple[int, int, int], width: int = 320, height: int = 240) -> bytes:
    image = np.empty((height, width, 3), dtype=np.uint8)
    image[:] = rgb
    jpeg: bytes = simplejpeg.encode_jpeg(image, quality=90, colorspace="RGB")
    return jpeg


class MjpegCamera:
    def __init__(self, rgb: tuple[int, int, int], port: int = 0, fps: float = 20.0) -> None:
        frame = solid_jpeg(rgb)
        stopping = threading.Event()
        self._stopping = stopping

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("content-type", f"multipart/x-mixed-replace;boundary={BOUNDARY}")
                self.end_headers()
                part = (
                    f"--{BOUNDARY}\r\ncontent-type: image/jpeg\r\n"
                    f"content-length: {len(frame)}\r\n\r\n"
                ).encode()
                with contextlib.suppress(OSError):
                    while not stopping.wait(1 / fps):  # the camera's frame rate
                        self.wfile.write(part + frame + b"\r\n")
                        self.wfile.flush()

            def log_message(self, *_args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/stream.mjpg"

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
