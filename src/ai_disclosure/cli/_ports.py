"""Whether a port can be listened on, asked before any work is done."""

from __future__ import annotations

import socket

__all__ = ["port_free"]


def port_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True
