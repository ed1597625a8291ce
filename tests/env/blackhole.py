#!/usr/bin/env python3
"""A TCP server that accepts connections and never answers: a peer that is
"there" but silent (an unreachable registry behind a load balancer, a hung
Auth Service). Listens on 127.0.0.1 only; prints "listening 127.0.0.1:PORT".

    python3 tests/env/blackhole.py [PORT]      (0 or nothing: any free port)
"""
import socket
import sys

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0))
s.listen(256)
print("listening 127.0.0.1:%d" % s.getsockname()[1], flush=True)
held = []
while True:
    c, _ = s.accept()
    held.append(c)  # kept open, never read, never written
