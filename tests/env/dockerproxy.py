#!/usr/bin/env python3
"""A faulty Docker engine for the drills: a proxy on a Unix socket in front
of a real engine's socket that holds, delays, cuts or corrupts the engine's
answers, by rules read from a file on every request (so a test changes the
engine's behaviour while the backend runs).

    dockerproxy.py LISTEN_SOCKET UPSTREAM_SOCKET RULES_FILE LOG_FILE

RULES_FILE holds one rule a line, the first that matches wins, no match
passes the request through untouched:

    METHOD PATH_REGEX ACTION [SECONDS]

    METHOD      GET, POST, PUT, DELETE or * (any)
    PATH_REGEX  searched in the request's path (with its query)
    ACTION      hold     keep the request until the file RULES_FILE.release
                         exists (the engine never sees it meanwhile)
                delay    wait SECONDS before forwarding the engine's answer
                cut      send the engine's status line, headers and half of
                         its body (the full length announced), then close
                garble   the engine's answer with its body's bytes corrupted
                         (not JSON any more)
                hang     accept the request and never answer
                close    close the connection without an answer
                status   answer SECONDS as an HTTP status with an empty body

LOG_FILE gets one line per request: "ACTION METHOD PATH" (before the action
runs, so a test can wait for a held request). Prints "dockerproxy: ready"
when it listens. A stand-in for a broken engine, a real HTTP peer: what it
forwards is the real engine's answer.
"""
import os
import re
import socket
import sys
import threading
import time


def read_head(sock):
    """Reads up to the end of the HTTP head; returns (head, rest)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
        if len(data) > 1 << 20:
            return None, b""
    head, rest = data.split(b"\r\n\r\n", 1)
    return head + b"\r\n\r\n", rest


def header(head, name):
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == name:
            return v.strip()
    return None


def read_body(sock, head, rest):
    """The full body of a request or response (Content-Length, chunked or
    up to EOF); returns bytes."""
    te = header(head, b"transfer-encoding")
    cl = header(head, b"content-length")
    data = rest
    if te and b"chunked" in te.lower():
        body = b""
        while True:
            while b"\r\n" not in data:
                c = sock.recv(65536)
                if not c:
                    return body
                data += c
            line, data = data.split(b"\r\n", 1)
            n = int(line.split(b";")[0], 16)
            while len(data) < n + 2:
                c = sock.recv(65536)
                if not c:
                    return body + data
                data += c
            body += data[:n]
            data = data[n + 2:]
            if n == 0:
                return body
    if cl is not None:
        n = int(cl)
        while len(data) < n:
            c = sock.recv(65536)
            if not c:
                break
            data += c
        return data[:n]
    while True:
        c = sock.recv(65536)
        if not c:
            return data
        data += c


class Proxy:
    def __init__(self, listen, upstream, rules, log):
        self.listen, self.upstream, self.rules, self.logf = listen, upstream, rules, log
        self.lock = threading.Lock()

    def log(self, text):
        with self.lock, open(self.logf, "a") as f:
            f.write(text + "\n")

    def rule_for(self, method, path):
        try:
            with open(self.rules) as f:
                lines = f.read().splitlines()
        except OSError:
            return ("pass", 0)
        for line in lines:
            p = line.split()
            if len(p) < 3 or p[0].startswith("#"):
                continue
            if p[0] not in ("*", method):
                continue
            try:
                if not re.search(p[1], path):
                    continue
            except re.error:
                continue
            return (p[2], float(p[3]) if len(p) > 3 else 0)
        return ("pass", 0)

    def serve(self, client):
        up = None
        try:
            head, rest = read_head(client)
            if head is None:
                return
            first = head.split(b"\r\n", 1)[0].decode("latin-1")
            method, path = first.split(" ")[0], first.split(" ")[1]
            action, arg = self.rule_for(method, path)
            self.log(f"{action} {method} {path}")
            if action == "hold":
                while not os.path.exists(self.rules + ".release"):
                    time.sleep(0.1)
                action = "pass"
            if action == "hang":
                while client.recv(65536):
                    pass
                return
            if action == "close":
                return
            if action == "status":
                client.sendall(b"HTTP/1.1 %d Drill\r\nContent-Length: 0\r\nConnection: close\r\n\r\n" % int(arg))
                return
            body = read_body(client, head, rest) if (header(head, b"content-length") or header(head, b"transfer-encoding")) else b""
            # one request per connection upstream: the answer ends at EOF
            lines = [l for l in head.split(b"\r\n")[:-2] if not l.lower().startswith(b"connection:")]
            fwd = b"\r\n".join(lines) + b"\r\nConnection: close\r\n\r\n"
            up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            up.connect(self.upstream)
            up.sendall(fwd)
            if body:
                # re-sent as read: chunked requests are re-framed
                if header(head, b"transfer-encoding"):
                    up.sendall(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
                else:
                    up.sendall(body)
            if action == "pass":
                while True:
                    c = up.recv(65536)
                    if not c:
                        break
                    client.sendall(c)
                return
            rhead, rrest = read_head(up)
            if rhead is None:
                return
            rbody = read_body(up, rhead, rrest)
            status_line = rhead.split(b"\r\n", 1)[0]
            keep = [l for l in rhead.split(b"\r\n")[1:-2]
                    if l.split(b":")[0].strip().lower() not in (b"content-length", b"transfer-encoding", b"connection")]
            if action == "garble":
                rbody = (b"\x00{\"Id\": [" + bytes((b ^ 0x5A) for b in rbody[:64]) + rbody[64:])[: max(len(rbody), 16)]
            out = b"\r\n".join([status_line] + keep + [b"Content-Length: %d" % len(rbody), b"Connection: close"]) + b"\r\n\r\n"
            if action == "delay":
                time.sleep(arg)
                client.sendall(out + rbody)
            elif action == "cut":
                client.sendall(out + rbody[: len(rbody) // 2])
            else:  # garble, or an unknown action: the (garbled) answer
                client.sendall(out + rbody)
        except (OSError, ValueError, IndexError):
            pass
        finally:
            for s in (client, up):
                if s is not None:
                    try:
                        s.close()
                    except OSError:
                        pass

    def run(self):
        try:
            os.unlink(self.listen)
        except FileNotFoundError:
            pass
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(self.listen)
        srv.listen(64)
        print("dockerproxy: ready", flush=True)
        while True:
            c, _ = srv.accept()
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    Proxy(*sys.argv[1:5]).run()
