"""Helpers shared by the serve tests (a module of its own: `from conftest import` collides across folders)."""

from __future__ import annotations

import socket


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
