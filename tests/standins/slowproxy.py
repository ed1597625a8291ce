#!/usr/bin/env python3
"""A TCP forwarder on 127.0.0.1 that slows the upstream-to-client direction
to a fixed rate, so that a test can act while an image pull is under way.

    slowproxy.py LISTEN_PORT UPSTREAM_PORT BYTES_PER_SECOND

Prints "slowproxy: listening on 127.0.0.1:PORT" once ready (PORT 0 picks a
free port). Loopback only, both sides.
"""
import socket
import sys
import threading
import time


def pump(src, dst, rate):
    try:
        while True:
            data = src.recv(16384)
            if not data:
                break
            dst.sendall(data)
            if rate:
                time.sleep(len(data) / rate)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def main():
    listen_port, upstream_port, rate = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", listen_port))
    srv.listen(64)
    print(f"slowproxy: listening on 127.0.0.1:{srv.getsockname()[1]}", flush=True)
    while True:
        client, _ = srv.accept()
        try:
            up = socket.create_connection(("127.0.0.1", upstream_port))
        except OSError:
            client.close()
            continue
        threading.Thread(target=pump, args=(client, up, 0), daemon=True).start()
        threading.Thread(target=pump, args=(up, client, rate), daemon=True).start()


if __name__ == "__main__":
    main()
