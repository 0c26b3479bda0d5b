#!/usr/bin/env python3
"""Raw WebSocket clients that join a topic and then stop reading, for the fault tests.

Node cannot size a socket's buffers, and a paused Node client on loopback lets the kernel buffer about
2 MB for it (the server's send buffer is sized from loopback's 64 KiB MSS): a thousand of them would
need gigabytes of kernel memory before the server's own queue limit is ever reached. These clients set
SO_RCVBUF and TCP_MAXSEG before connecting, so the kernel holds a few tens of KB per connection and the
server's write queue is what fills.

    python3 stalled_clients.py --port P --count N --topic T [--prefix u] [--src 127.0.0.2]

Connects N clients (users <prefix>0..N-1, vsn 2.0.0), joins each to T (the reply must be ok), prints
"ready N" and then reads nothing; with --keep-reading they go on reading (and discarding) everything
and send a heartbeat every 500 ms, as live clients do, until the process is frozen. Commands on stdin, one per line:
    drain [S]  read every socket to its end (for at most S seconds, default 10), print "drained <json>",
               how each one ended: {"1008": n, "eof": n, "open": n, ...} ("open": still open after S)
    exit       close everything and exit (EOF on stdin too)
SIGSTOP/SIGCONT from the test freeze the whole process (a peer that vanished without FIN or RST).
"""
import argparse
import json
import os
import selectors
import socket
import struct
import sys
import time

MASK = b"\x12\x34\x56\x78"


def client_frame(text):
    body = text.encode()
    n = len(body)
    if n < 126:
        head = struct.pack("!BB", 0x81, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x81, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
    return head + MASK + bytes(b ^ MASK[i % 4] for i, b in enumerate(body))


def parse_frames(buf):
    """Whole server frames at the start of buf: ([(opcode, payload)], bytes consumed)."""
    out, i = [], 0
    while len(buf) - i >= 2:
        op, n = buf[i] & 0x0F, buf[i + 1] & 0x7F
        j = i + 2
        if n == 126:
            if len(buf) - j < 2:
                break
            (n,) = struct.unpack_from("!H", buf, j)
            j += 2
        elif n == 127:
            if len(buf) - j < 8:
                break
            (n,) = struct.unpack_from("!Q", buf, j)
            j += 8
        if len(buf) - j < n:
            break
        out.append((op, bytes(buf[j : j + n])))
        i = j + n
    return out, i


def open_client(port, src, user, topic, rcvbuf, mss):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, mss)
    s.settimeout(10)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    s.sendall(
        (
            f"GET /socket/websocket?token={user}&vsn=2.0.0 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        if not d:
            raise RuntimeError(f"{user}: closed during the upgrade")
        buf += d
    head, buf = buf.split(b"\r\n\r\n", 1)
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(f"{user}: upgrade refused: {head.splitlines()[0]!r}")
    s.sendall(client_frame(json.dumps(["1", "1", topic, "phx_join", {}])))
    while True:
        frames, used = parse_frames(buf)
        buf = buf[used:]
        for op, payload in frames:
            if op != 1:
                continue
            msg = json.loads(payload)
            if msg[1] == "1" and msg[3] == "phx_reply":
                if msg[4].get("status") != "ok":
                    raise RuntimeError(f"{user}: join refused: {msg}")
                return s
        d = s.recv(4096)
        if not d:
            raise RuntimeError(f"{user}: closed before the join reply")
        buf += d


def drain(socks, bound_s=10.0):
    """Read every socket to EOF; how each ended: its close frame's code, 'eof' without one, 'open'."""
    sel = selectors.DefaultSelector()
    state = {}
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        state[s] = [bytearray(), None]
    open_ = len(socks)
    deadline = time.monotonic() + bound_s
    while open_ and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.2):
            s = key.fileobj
            try:
                d = s.recv(1 << 16)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                d = b""
            st = state[s]
            if d:
                st[0] += d
                frames, used = parse_frames(st[0])
                del st[0][:used]
                for op, payload in frames:
                    if op == 8 and st[1] is None:
                        st[1] = str(struct.unpack("!H", payload[:2])[0]) if len(payload) >= 2 else "1005"
                continue
            sel.unregister(s)
            open_ -= 1
            if st[1] is None:
                st[1] = "eof"
    counts = {}
    for s, st in state.items():
        k = st[1] or "open"
        counts[k] = counts.get(k, 0) + 1
    return counts


HEARTBEAT = client_frame(json.dumps([None, "hb", "phoenix", "heartbeat", {}]))


class Live:
    """--keep-reading: read and discard what arrives, heartbeat every 500 ms (idle timeouts)."""

    def __init__(self):
        self.sel = selectors.DefaultSelector()
        self.socks = []
        self.beat_at = time.monotonic()

    def add(self, s):
        s.setblocking(False)
        self.sel.register(s, selectors.EVENT_READ)
        self.socks.append(s)

    def pump(self):
        for key, _ in self.sel.select(timeout=0):
            try:
                key.fileobj.recv(1 << 16)
            except (BlockingIOError, InterruptedError, OSError):
                pass
        if time.monotonic() >= self.beat_at:
            self.beat_at = time.monotonic() + 0.5
            for s in self.socks:
                try:
                    s.send(HEARTBEAT)
                except OSError:
                    pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--prefix", default="stalled")
    ap.add_argument("--src", default="127.0.0.1")
    ap.add_argument("--rcvbuf", type=int, default=4096)
    ap.add_argument("--mss", type=int, default=536)
    ap.add_argument("--keep-reading", action="store_true")
    a = ap.parse_args()
    live = Live()
    socks = []
    for i in range(a.count):
        s = open_client(a.port, a.src, f"{a.prefix}{i}", a.topic, a.rcvbuf, a.mss)
        socks.append(s)
        if a.keep_reading:
            live.add(s)
            live.pump()
    print(f"ready {len(socks)}", flush=True)
    commands = selectors.DefaultSelector()
    commands.register(sys.stdin, selectors.EVENT_READ)
    pending, running = b"", True
    while running:
        if commands.select(timeout=0.05 if a.keep_reading else None):
            d = os.read(sys.stdin.fileno(), 4096)
            pending += d if d else b"exit\n"
        if a.keep_reading:
            live.pump()
        while running and b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            cmd = line.decode().split()
            if cmd[:1] == ["drain"]:
                if a.keep_reading:
                    live.sel.close()
                    a.keep_reading = False
                bound = float(cmd[1]) if len(cmd) > 1 else 10.0
                print("drained " + json.dumps(drain(socks, bound)), flush=True)
            elif cmd[:1] == ["exit"]:
                running = False
    for s in socks:
        s.close()


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # the test reads stderr and the exit status
        print(f"stalled_clients: {e}", file=sys.stderr, flush=True)
        os._exit(1)
