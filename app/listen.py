"""Binding the bot's listening sockets before anything else starts (issue 11).

``web.run_app(host=, port=)`` binds only after the app's start-up hooks have run, so a port in use
or a host that is not an address surfaced as a traceback, and only after a reminder sweep had already
run. Binding first means a failed start does nothing and says why in one line; ``run_app(sock=)``
then serves on the sockets bound here.
"""

from __future__ import annotations

import socket

#: The listen backlog aiohttp uses by default.
BACKLOG = 128


class CannotListen(Exception):
    """The address or port given to ``cpc serve`` cannot be listened on; the message says which."""


def check_port(port: int) -> int:
    """The port, when it is one a TCP socket can bind (0 asks the system for a free one)."""
    if not 0 <= port <= 65535:
        raise CannotListen(f"port {port}: expected a number from 0 to 65535 (0 picks a free port)")
    return port


def listen(host: str, port: int) -> list[socket.socket]:
    """Listening sockets for every address ``host`` names, or CannotListen with the reason.

    With port 0 only the first address is bound: each address would otherwise get its own port.
    """
    check_port(port)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise CannotListen(f"host {host!r}: not an address this machine can listen on ({reason})") from None
    addresses = list(dict.fromkeys((family, address) for family, _type, _proto, _name, address in found))
    if port == 0:
        addresses = addresses[:1]
    sockets: list[socket.socket] = []
    try:
        for family, address in addresses:
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(BACKLOG)
            sock.setblocking(False)
    except OSError as exc:
        for sock in sockets:
            sock.close()
        raise CannotListen(f"{host}:{port}: cannot listen there: {exc.strerror or exc}") from None
    return sockets


def bound_port(sockets: list[socket.socket]) -> int:
    """The port the first socket got (the one the system chose, for port 0)."""
    return int(sockets[0].getsockname()[1])
