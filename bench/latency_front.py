#!/usr/bin/env python3
"""A latency front for benchmarks (a stand-in for a far S3 service such as
Storj's gateway): a TCP forwarder on 127.0.0.1 that holds every HTTP request
for a fixed delay before passing it on to the upstream S3 endpoint.

    latency_front.py LISTEN_PORT UPSTREAM_HOST UPSTREAM_PORT DELAY_MS

A request is the first bytes a client sends on a connection, or the first it
sends after the upstream answered something (HTTP/1.1 keep-alive: a client
sends the next request after reading the last answer). The bodies that follow
are not held again. Prints "latency_front: listening on 127.0.0.1:PORT"
(PORT 0 picks a free port) and the count of held requests at exit.
"""
import asyncio
import signal
import sys

held = 0


async def pump_up(reader, writer, state, delay):
    global held
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            if state["answered"]:
                state["answered"] = False
                held += 1
                await asyncio.sleep(delay)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.write_eof()
        except (OSError, RuntimeError):
            pass


async def pump_down(reader, writer, state):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            state["answered"] = True
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def main():
    port, host, uport, delay = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]) / 1000

    async def handle(cr, cw):
        try:
            ur, uw = await asyncio.open_connection(host, uport)
        except OSError:
            cw.close()
            return
        state = {"answered": True}
        await asyncio.gather(pump_up(cr, uw, state, delay), pump_down(ur, cw, state))
        uw.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, limit=1 << 20)
    print("latency_front: listening on 127.0.0.1:%d" % server.sockets[0].getsockname()[1], flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    async with server:
        await stop.wait()
    print("latency_front: %d requests held" % held, flush=True)


if __name__ == "__main__":
    asyncio.run(main())
