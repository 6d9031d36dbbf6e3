#!/usr/bin/python3
"""Delaying TCP and UDP proxy for round-trip measurements (no netem here).

    delayproxy.py [--pidfile F] MAP...
    MAP = tcp:LISTEN_HOST:LISTEN_PORT:TO_HOST:TO_PORT:DELAY_MS
        | udp:LISTEN_HOST:LISTEN_PORT:TO_HOST:TO_PORT:DELAY_MS
    (IPv6 hosts in brackets: tcp:[::1]:11125:127.0.0.1:11025:25)

The TCP handshake is charged as on a real link (the upstream connection is
opened 3 one-way delays after the client's is accepted), then every chunk read
in either direction is written to the other side DELAY_MS
after it was read. Chunks are scheduled by their own arrival time, not one
after another, so a flight of several segments costs one delay, and order is
kept. One round trip through the proxy therefore costs 2 x DELAY_MS whatever
the tool does, which is what lets scripts/bench.sh count round trips as
(wall at the long delay - wall at the short delay) / the RTT difference.
Only ever bound to the benchmark's own network namespace.
"""
import asyncio
import os
import signal
import socket
import sys
import time


def split_hostport(s):
    """Parse 'host:port:rest' where host may be [v6]; return (host, port, rest)."""
    if s.startswith("["):
        end = s.index("]")
        host, s = s[1:end], s[end + 2:]
    else:
        host, s = s.split(":", 1)
    port, _, rest = s.partition(":")
    return host, int(port), rest


async def pump(reader, writer, delay):
    """Copy reader to writer, each chunk DELAY seconds after it arrived."""
    q = asyncio.Queue()

    async def feed():
        try:
            while True:
                data = await reader.read(65536)
                q.put_nowait((time.monotonic() + delay, data))
                if not data:
                    return
        except (ConnectionError, OSError):
            q.put_nowait((time.monotonic() + delay, b""))

    feeder = asyncio.ensure_future(feed())
    try:
        while True:
            due, data = await q.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        feeder.cancel()


def nodelay(writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


async def tcp_map(lhost, lport, thost, tport, delay):
    async def handle(creader, cwriter):
        nodelay(cwriter)
        # The kernel completed the client's connect() at once; charge the TCP
        # handshake here instead: the server sees the connection after SYN,
        # SYN-ACK and ACK (3 one-way delays), so its greeting reaches the
        # client 2 round trips after connect() began, as on a real link.
        await asyncio.sleep(3 * delay)
        try:
            sreader, swriter = await asyncio.open_connection(thost, tport)
        except OSError:
            cwriter.close()
            return
        nodelay(swriter)
        await asyncio.gather(pump(creader, swriter, delay), pump(sreader, cwriter, delay))
        for w in (cwriter, swriter):
            w.close()

    return await asyncio.start_server(handle, lhost, lport, reuse_address=True, backlog=1024)


class UdpUp(asyncio.DatagramProtocol):
    """Upstream socket for one client address: answers go back delayed."""

    def __init__(self, down, client, delay):
        self.down, self.client, self.delay = down, client, delay

    def datagram_received(self, data, addr):
        loop = asyncio.get_running_loop()
        loop.call_later(self.delay, self.down.transport.sendto, data, self.client)


class UdpDown(asyncio.DatagramProtocol):
    def __init__(self, thost, tport, delay):
        self.target, self.delay, self.ups = (thost, tport), delay, {}

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        asyncio.ensure_future(self.forward(data, addr))

    async def forward(self, data, addr):
        loop = asyncio.get_running_loop()
        due = loop.time() + self.delay
        up = self.ups.get(addr)
        if up is None:
            up, _ = await loop.create_datagram_endpoint(
                lambda: UdpUp(self, addr, self.delay), remote_addr=self.target)
            self.ups[addr] = up
        loop.call_at(due, up.sendto, data)


async def main(argv):
    pidfile = None
    if len(argv) >= 2 and argv[0] == "--pidfile":
        pidfile, argv = argv[1], argv[2:]
    if not argv:
        sys.exit(__doc__)
    loop = asyncio.get_running_loop()
    servers = []
    for spec in argv:
        proto, rest = spec.split(":", 1)
        lhost, lport, rest = split_hostport(rest)
        thost, tport, delay = split_hostport(rest)
        d = float(delay) / 1000.0
        if proto == "tcp":
            servers.append(await tcp_map(lhost, lport, thost, tport, d))
        elif proto == "udp":
            await loop.create_datagram_endpoint(lambda: UdpDown(thost, tport, d),
                                                local_addr=(lhost, lport))
        else:
            sys.exit("delayproxy: bad map " + spec)
    if pidfile:
        with open(pidfile, "w") as f:
            f.write("%d\n" % os.getpid())
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
