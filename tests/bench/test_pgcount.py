"""The round-trip counter of `make bench`: the wire-protocol reader on crafted bytes,
and the proxy in front of the real PostgreSQL."""

from __future__ import annotations

import os
import struct

import psycopg

from bench.web.pgcount import SSL_REQUEST, ClientStream, RoundTripProxy


def typed(kind: bytes, body: bytes = b"") -> bytes:
    return kind + struct.pack("!i", 4 + len(body)) + body


def untyped(code: int, body: bytes = b"") -> bytes:
    return struct.pack("!ii", 8 + len(body), code) + body


def test_stream_counts_only_messages_that_wait_for_an_answer() -> None:
    stream = ClientStream()
    to_server, to_client = stream.feed(untyped(SSL_REQUEST))
    assert (to_server, to_client, stream.round_trips) == (b"", b"N", 1)  # answered by the proxy
    startup = untyped(196608, b"user\x00cp_app\x00\x00")
    extended = typed(b"P", b"\x00SELECT 1\x00\x00\x00") + typed(b"B", b"\x00" * 8) + typed(
        b"D", b"P\x00"
    ) + typed(b"E", b"\x00\x00\x00\x00\x00") + typed(b"S")  # fmt: skip
    wire = startup + extended + typed(b"Q", b"COMMIT\x00") + typed(b"X")
    # Fed in awkward pieces: message boundaries never line up with reads.
    forwarded = b""
    for start in range(0, len(wire), 7):
        out, back = stream.feed(wire[start : start + 7])
        forwarded += out
        assert back == b""
    assert forwarded == wire  # everything but the SSL request reaches the server unchanged
    assert stream.round_trips == 1 + 1 + 1 + 1  # SSL request, startup, Sync, Query


def test_proxy_counts_the_round_trips_of_a_real_connection() -> None:
    url = psycopg.conninfo.conninfo_to_dict(os.environ["DATABASE_URL"])
    with RoundTripProxy((str(url.get("host", "127.0.0.1")), int(url.get("port", 5432)))) as proxy:
        conn = psycopg.connect(
            host="127.0.0.1",
            port=proxy.port,
            user=url.get("user"),
            dbname=url.get("dbname"),
            autocommit=True,
        )
        try:
            assert proxy.connections == 1
            before = proxy.round_trips
            for n in range(3):
                assert conn.execute("SELECT %s::int", [n]).fetchone() == (n,)
            assert proxy.round_trips - before == 3
            before = proxy.round_trips
            with conn.transaction():  # BEGIN, two statements, COMMIT
                conn.execute("SELECT 1")
                conn.execute("SELECT 2")
            assert proxy.round_trips - before == 4
        finally:
            conn.close()
