"""Counting database round trips from outside the app: a loopback proxy in front of
PostgreSQL that reads the client side of the wire protocol.

A round trip is a message after which the client must wait for PostgreSQL's answer:

* ``Q`` — a simple query (psycopg sends ``BEGIN``/``COMMIT`` this way in some modes);
* ``S`` — Sync, which ends every extended-protocol exchange (Parse/Bind/Describe/
  Execute); one Sync is one wait, however many statements were batched before it;
* ``p`` — a password or SASL message while a connection authenticates;
* the startup message of a new connection, and an SSL/GSS encryption request (which
  the proxy answers itself with ``N``, so the traffic stays readable).

Nothing in the app is changed or asked: statements, transaction control, health
checks (``SELECT 1``), ``set_config`` calls and connection setup are all counted the
same way, which is what a request actually waits for. The proxy is only used by the
round-trip pass of the bench (a separate app-server process), never under load.
"""

from __future__ import annotations

import socket
import threading
from contextlib import suppress

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CANCEL_REQUEST = 80877102
WAITING_MESSAGES = frozenset(b"QSp")


class ClientStream:
    """Splits the client→server byte stream into messages and counts round trips."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.in_startup = True
        self.round_trips = 0

    def feed(self, data: bytes) -> tuple[bytes, bytes]:
        """Take bytes from the client; return (bytes for the server, reply to the client)."""
        self.buffer += data
        to_server = bytearray()
        to_client = bytearray()
        while True:
            if self.in_startup:
                if len(self.buffer) < 8:
                    break
                length = int.from_bytes(self.buffer[0:4], "big")
                if len(self.buffer) < length:
                    break
                code = int.from_bytes(self.buffer[4:8], "big")
                message = bytes(self.buffer[:length])
                del self.buffer[:length]
                if code in (SSL_REQUEST, GSSENC_REQUEST):
                    self.round_trips += 1
                    to_client += b"N"  # no encryption on loopback: the client goes on in clear
                    continue
                if code != CANCEL_REQUEST:
                    self.round_trips += 1
                    self.in_startup = False
                to_server += message
            else:
                if len(self.buffer) < 5:
                    break
                total = 1 + int.from_bytes(self.buffer[1:5], "big")
                if len(self.buffer) < total:
                    break
                if self.buffer[0] in WAITING_MESSAGES:
                    self.round_trips += 1
                to_server += self.buffer[:total]
                del self.buffer[:total]
        return bytes(to_server), bytes(to_client)


class RoundTripProxy:
    """``with RoundTripProxy(("127.0.0.1", 5432)) as proxy:`` point clients at
    ``proxy.port``; ``proxy.round_trips`` and ``proxy.connections`` count so far."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._round_trips = 0
        self._connections = 0
        self._open: set[socket.socket] = set()
        self._closed = threading.Event()
        self._acceptor = threading.Thread(target=self._accept, name="pgcount-accept", daemon=True)

    @property
    def round_trips(self) -> int:
        with self._lock:
            return self._round_trips

    @property
    def connections(self) -> int:
        with self._lock:
            return self._connections

    def __enter__(self) -> RoundTripProxy:
        self._acceptor.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._closed.set()
        with suppress(OSError):
            self._listener.close()
        with self._lock:
            sockets = list(self._open)
        for sock in sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with suppress(OSError):
                sock.close()
        self._acceptor.join(timeout=5)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=10)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._connections += 1
                self._open.update((client, server))
            threading.Thread(target=self._pump_client, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pump_server, args=(server, client), daemon=True).start()

    def _pump_client(self, client: socket.socket, server: socket.socket) -> None:
        stream = ClientStream()
        try:
            while data := client.recv(65536):
                before = stream.round_trips
                to_server, to_client = stream.feed(data)
                # Counted before forwarding: by the time the app sees an answer, its
                # question is already in the total.
                with self._lock:
                    self._round_trips += stream.round_trips - before
                if to_client:
                    client.sendall(to_client)
                if to_server:
                    server.sendall(to_server)
        except OSError:
            pass
        finally:
            self._hang_up(client, server)

    def _pump_server(self, server: socket.socket, client: socket.socket) -> None:
        try:
            while data := server.recv(65536):
                client.sendall(data)
        except OSError:
            pass
        finally:
            self._hang_up(client, server)

    def _hang_up(self, *sockets: socket.socket) -> None:
        for sock in sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with suppress(OSError):
                sock.close()
            with self._lock:
                self._open.discard(sock)
