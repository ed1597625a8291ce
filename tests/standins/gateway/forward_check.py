#!/usr/bin/env python3
"""Check a TCP forwarder byte for byte, with half-closes, under concurrency.

    forward_check.py UPSTREAM_PORT FORWARDER_PORT [CONNECTIONS]

Runs an upstream server on 127.0.0.1:UPSTREAM_PORT (point the forwarder's
upstream there first, or start this and the forwarder in either order: the
clients wait up to 10 s for the forwarder). Each client connection, through
127.0.0.1:FORWARDER_PORT, exercises one of two patterns:

  client-first  the client sends N random bytes and shuts down its write
                side; the server reads to EOF, then answers with the SHA-256
                of what it got followed by the same bytes reversed, and
                closes. The client checks both.
  server-first  the server sends M random bytes and shuts down its write
                side at once, then reads the client's N bytes to EOF and
                answers with their SHA-256; the client reads the M bytes to
                EOF while still sending, then shuts down. Checks both ways.

Sizes go up to 4 MiB; CONNECTIONS (default 200) run at the same time.
Prints one summary line; exit status 0 only when every connection matched.
"""
import hashlib
import os
import random
import socket
import socketserver
import sys
import threading
import time

MAX = 4 * 1024 * 1024


def recv_all(sock):
    chunks = []
    while True:
        b = sock.recv(1 << 16)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        s = self.request
        mode = s.recv(1)
        if mode == b"C":
            data = recv_all(s)
            s.sendall(hashlib.sha256(data).digest() + data[::-1])
        elif mode == b"S":
            hdr = b""
            while len(hdr) < 8:
                b = s.recv(8 - len(hdr))
                if not b:
                    return
                hdr += b
            m = int.from_bytes(hdr, "big")
            s.sendall(self.server.blob[:m])
            s.shutdown(socket.SHUT_WR)
            data = recv_all(s)
            # our write side is shut, so the digest goes into the server's table
            with self.server.lock:
                self.server.digests.append(hashlib.sha256(data).hexdigest())


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


def connect(port, deadline):
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=60)
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.1)


def client(port, i, blob, errors, sent_digests, lock):
    rnd = random.Random(i)
    try:
        s = connect(port, time.time() + 10)
        if i % 2 == 0:  # client-first
            n = rnd.randrange(0, MAX)
            data = blob[:n]
            s.sendall(b"C" + data)
            s.shutdown(socket.SHUT_WR)
            got = recv_all(s)
            if got != hashlib.sha256(data).digest() + data[::-1]:
                errors.append(f"conn {i}: client-first reply differs ({len(got)} bytes)")
        else:  # server-first: read all of the server's bytes, then send ours
            m = rnd.randrange(1, MAX)
            n = rnd.randrange(0, MAX)
            s.sendall(b"S" + m.to_bytes(8, "big"))
            got = recv_all(s)  # EOF proves the server's half-close came through
            data = blob[-n:] if n else b""
            s.sendall(data)  # our direction is still open
            with lock:
                sent_digests.append(hashlib.sha256(data).hexdigest())
            s.shutdown(socket.SHUT_WR)
            rest = recv_all(s)
            if len(got) != m or rest:
                errors.append(f"conn {i}: server-first got {len(got)} of {m} bytes")
        s.close()
    except Exception as e:  # noqa: BLE001 - report everything
        errors.append(f"conn {i}: {type(e).__name__}: {e}")


def main():
    up_port, fwd_port = int(sys.argv[1]), int(sys.argv[2])
    conns = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    blob = os.urandom(MAX)
    srv = Server(("127.0.0.1", up_port), Handler)
    srv.blob = blob
    srv.digests = []
    srv.lock = threading.Lock()
    threading.Thread(target=srv.serve_forever, daemon=True).start()

    errors, sent, lock = [], [], threading.Lock()
    t0 = time.time()
    threads = [threading.Thread(target=client, args=(fwd_port, i, blob, errors, sent, lock))
               for i in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # the server records digests after reading to EOF; give stragglers a moment
    deadline = time.time() + 5
    while len(srv.digests) < len(sent) and time.time() < deadline:
        time.sleep(0.05)
    if sorted(srv.digests) != sorted(sent):
        errors.append(f"server-first: server saw {len(srv.digests)} uploads, "
                      f"{len(set(srv.digests) ^ set(sent))} digests differ")
    srv.shutdown()
    secs = time.time() - t0
    if errors:
        for e in errors[:10]:
            print("  " + e)
        print(f"forward_check: FAILED, {len(errors)} problems in {conns} connections ({secs:.1f} s)")
        return 1
    print(f"forward_check: {conns} concurrent connections matched byte for byte, "
          f"half-closes both ways ({secs:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
