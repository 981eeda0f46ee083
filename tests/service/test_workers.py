"""The listening sockets of ``triage serve --workers N`` (service/workers.py)."""
import socket

import pytest

from service.workers import listening_socket


def test_workers_can_each_listen_on_the_same_port_as_tcp():
    first = listening_socket("127.0.0.1", 0)
    port = first.getsockname()[1]
    second = listening_socket("127.0.0.1", port)
    try:
        for s in (first, second):
            assert s.proto == socket.IPPROTO_TCP  # asyncio then sets TCP_NODELAY on each connection
            assert s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
            assert s.getsockname() == ("127.0.0.1", port)
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # the kernel hands it to one of the two
    finally:
        first.close()
        second.close()


def test_a_port_held_by_another_program_is_refused():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:  # no SO_REUSEPORT
        other.bind(("127.0.0.1", 0))
        other.listen()
        with pytest.raises(OSError):
            listening_socket("127.0.0.1", other.getsockname()[1])
