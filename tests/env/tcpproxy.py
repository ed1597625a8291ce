#!/usr/bin/env python3
"""A TCP forwarder that a test stops and starts to take a service away (S3
down) and bring it back, optionally slowing the client-to-upstream
direction so that a push is still under way when it is stopped.

    tcpproxy.py LISTEN_ADDR LISTEN_PORT UPSTREAM_HOST UPSTREAM_PORT [BYTES_PER_SECOND]

LISTEN_ADDR must be 127.0.0.1 or a test bridge address in 198.18.0.0/15
($HOST_IP, for containers); the upstream is 127.0.0.1 or such an address
too. Killing the process drops every connection at once (what a dead
service looks like); started again on the same port it serves again.
Prints "tcpproxy: listening on ADDR:PORT" once ready.
"""
import ipaddress
import socket
import sys
import threading
import time


def allowed(addr):
    ip = ipaddress.ip_address(addr)
    return ip.is_loopback or ip in ipaddress.ip_network("198.18.0.0/15")


def pump(src, dst, rate):
    try:
        while True:
            data = src.recv(65536)
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
    if len(sys.argv) not in (5, 6):
        sys.exit(__doc__)
    laddr, lport, uhost, uport = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    rate = float(sys.argv[5]) if len(sys.argv) > 5 else 0
    if not allowed(laddr) or not allowed(uhost):
        sys.exit("tcpproxy: only loopback and 198.18.0.0/15 addresses")
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((laddr, lport))
    srv.listen(128)
    print(f"tcpproxy: listening on {laddr}:{srv.getsockname()[1]}", flush=True)
    while True:
        client, _ = srv.accept()
        try:
            up = socket.create_connection((uhost, uport), timeout=5)
            up.settimeout(None)
        except OSError:
            client.close()
            continue
        threading.Thread(target=pump, args=(client, up, rate), daemon=True).start()
        threading.Thread(target=pump, args=(up, client, 0), daemon=True).start()


if __name__ == "__main__":
    main()
