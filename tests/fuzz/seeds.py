#!/usr/bin/env python3
"""seeds.py: writes the seed corpus of every fuzz target into tests/fuzz/corpus/<target>/.

The seeds are the test vectors of PROTOCOL.md (sections 3-5 and 11), long-poll ndjson bodies and API
bodies, in each target's input format (see the opening comment of each fuzz_*.c). Run it again after
changing a target's format; scripts/fuzz.sh only reads the corpus (it never grows the committed one).

    python3 tests/fuzz/seeds.py
"""
import base64
import hashlib
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# ---- frames from PROTOCOL.md ----

V2 = [
    # section 3
    '["3","3","room:lobby","phx_join",{}]',
    '["3","3","room:lobby","phx_reply",{"status":"ok","response":{}}]',
    '["3",null,"room:lobby","presence_state",{"alice":{"metas":[{"online_at":1732140000,"phx_ref":"GHvr0v2mJtH8kAGB"}]}}]',
    '["3","4","room:lobby","ping",{"x":1}]',
    '["3","4","room:lobby","phx_reply",{"status":"ok","response":{"x":1}}]',
    '[null,"5","phoenix","heartbeat",{}]',
    '[null,"5","phoenix","phx_reply",{"status":"ok","response":{}}]',
    '[null,null,"room:lobby","shout",{"body":"hi"}]',
    # section 11
    '["1","1","room:forbidden","phx_join",{}]',
    '["1","1","room:forbidden","phx_reply",{"status":"error","response":{"reason":"unauthorized"}}]',
    '[null,null,"room:x","presence_diff",{"joins":{"alice":{"metas":[{"online_at":1,"phx_ref":"F1"}]}},"leaves":{}}]',
    '["1","2","room:x","shout_others",{"body":"hey"}]',
    '["1","2","room:x","fail",{}]',
    '["1","1","room:x","phx_error",{"reason":"channel_crash"}]',
    '["1","1","room:x","phx_close",{}]',
    '["1","3","room:x","leave_me",{}]',
    '["1","4","room:x","phx_leave",{}]',
    # shapes a decoder must take or refuse
    '[1,2,"room:a","ev",[1,2.5,-0.0,1e19,10000000000000000000,true,false,null]]',
    '["1","2","room:a","ev",{"s":"a\\u0000b\\n\\u00e9\\ud83d\\ude00"},"extra",6]',
    '[{"jr":1},["r"],"t","e",null]',
    '["1","2","room:a","ev"]',
    '["1","2",3,"ev",{}]',
    '["1","2","t\\u0000","ev",{}]',
    '{"topic":"room:a"}',
]

V1 = [
    # section 5
    '{"topic":"room:a","event":"phx_join","payload":{},"ref":"1","join_ref":"1"}',
    '{"topic":"room:a","event":"phx_reply","payload":{"status":"ok","response":{}},"ref":"1"}',
    '{"topic":"room:a","event":"presence_state","payload":{},"ref":null}',
    '{"topic":"room:a","event":"shout","payload":{"body":"hi"},"ref":null}',
    '{"topic":"room:a","event":"phx_close","payload":{},"ref":"1"}',
    '{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"2"}',
    '{"topic":"room:a","event":"ping","payload":[1,{"a":1e19}],"ref":7,"join_ref":"1","extra":true}',
    '{"topic":"room:a","event":"ping","payload":{"s":"\\u0000"},"ref":"1","topic":"room:b"}',
    '{"topic":"room:a","event":"ping","payload":{}}',
    '["1","1","room:a","phx_join",{}]',
]


def bin_push(jr, ref, topic, event, payload):
    """A client -> server kind 0 push (PROTOCOL.md section 4)."""
    f = [jr, ref, topic, event]
    return bytes([0] + [len(x) for x in f]) + b"".join(f) + payload


BINARY = [
    # the byte example of section 4
    bytes.fromhex("00010106063132726f6f6d3a6162696e617279010203"),
    bin_push(b"", b"", b"room:a", b"binary", b""),
    bin_push(b"1", b"", b"room:lobby", b"ping", bytes(range(256))),
    bin_push(b"\xc3\xa9", b"22", b"t", b"e", b"\x00\xff"),
    bytes.fromhex("01010106023132726f6f6d3a616f6b010203"),  # the reply: kind 1, refused by the decoder
    bytes.fromhex("0005"),
]

API = [
    '{"topic":"room:lobby","event":"shout","payload":{"body":"from the backend"}}',
    '{"topic":"telemetry:fleet","event":"position","payload":{"id":7,"lat":1.5}}',
    '{"topic":"room:lobby","event":"tagged","payload":{"skip":"bob","n":1}}',
    '{"topic":"users_socket:alice","event":"disconnect","payload":{}}',
    '{"topic":"room:x","event":"e","payload":{"big":10000000000000000000}}',
    '{"topic":"room:lobby","event":"e\\u0000x","payload":{}}',
    '{"topic":"","event":"e","payload":{}}',
    '{"topic":"t","event":"e","payload":[1]}',
    "[1]",
]

# ---- long-poll bodies: an options byte (fuzz_lp_batch.c), then the body ----

HB = '[null,"1","phoenix","heartbeat",{}]'
JOIN = '["1","1","room:lobby","phx_join",{}]'
LP = [
    (1, "\n".join([JOIN, '["1","2","room:lobby","shout",{"body":"hi"}]', HB]) + "\n"),
    (1 | 8, "\r\n".join([JOIN, '["1","2","room:lobby","shout_tagged",{"skip":"bob"}]',
                         base64.b64encode(bin_push(b"1", b"3", b"room:lobby", b"binary", b"\x01\x02\x03")).decode()])),
    (1, base64.b64encode(BINARY[0]).decode() + "\n"),
    (0, HB),
    (2, '{"topic":"room:a","event":"phx_join","payload":{},"ref":"1","join_ref":"1"}'),
    (1 | 2, '{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"1"}\n{"topic":"room:a","event":"phx_join","payload":{},"ref":"2"}\n'),
    (1 | 4, "\n".join([JOIN] * 3 + ['["2","2","room:b","phx_join",{}]', "not base64 !!"])),
    (1, "\n".join([HB] * 101)),
    (1, "\n\n\r\n"),
]

# ---- conversations: a config byte, then records of header, 2-byte length, bytes (fuzz_conn_messages.c) ----

ALICE, BOB, BINARY_MSG = 0, 1, 2


def frag(n):
    return (n & 3) << 2


def rec(h, msg):
    if isinstance(msg, str):
        msg = msg.encode()
    return bytes([h]) + struct.pack(">H", len(msg)) + msg


def v2(jr, ref, topic, event, payload="{}"):
    j = "null" if jr is None else '"%s"' % jr
    return '[%s,"%s","%s","%s",%s]' % (j, ref, topic, event, payload)


def v1(jr, ref, topic, event, payload="{}"):
    return '{"topic":"%s","event":"%s","payload":%s,"ref":"%s","join_ref":"%s"}' % (topic, event, payload, ref, jr)


CONVOS = [
    # both join room:lobby, then every event of the demo room
    bytes([0]) + b"".join([
        rec(ALICE, v2("1", "1", "room:lobby", "phx_join")),
        rec(BOB, v2("1", "1", "room:lobby", "phx_join")),
        rec(ALICE, v2("1", "2", "room:lobby", "shout", '{"body":"hi"}')),
        rec(BOB, v2("1", "2", "room:lobby", "shout_others", '{"body":"yo"}')),
        rec(ALICE, v2("1", "3", "room:lobby", "shout_tagged", '{"skip":"bob"}')),
        rec(ALICE, v2("1", "4", "room:lobby", "ping", '{"x":1}')),
        rec(ALICE | BINARY_MSG, bin_push(b"1", b"5", b"room:lobby", b"binary", b"\x01\x02\x03")),
        rec(BOB, v2("1", "3", "room:lobby", "fail")),
        rec(BOB, v2("1", "4", "room:lobby", "noreply")),
        rec(BOB, v2(None, "5", "phoenix", "heartbeat")),
        rec(ALICE, v2("1", "6", "room:lobby", "crash")),
        rec(ALICE, v2("2", "7", "room:lobby", "phx_join")),
        rec(BOB, v2("1", "6", "room:lobby", "leave_me")),
        rec(ALICE, v2("2", "8", "room:lobby", "phx_leave")),
    ]),
    # fragments, duplicate join, stale join_ref, forbidden room, telemetry, unmatched topic
    bytes([0]) + b"".join([
        rec(ALICE | frag(3) | 0x10, v2("1", "1", "room:a", "phx_join")),
        rec(ALICE | frag(1), v2("2", "2", "room:a", "phx_join")),
        rec(ALICE, v2("1", "3", "room:a", "ping")),
        rec(BOB | frag(2), v2("1", "1", "room:forbidden", "phx_join")),
        rec(BOB, v2("1", "2", "telemetry:fleet", "phx_join")),
        rec(BOB, v2("1", "3", "telemetry:fleet", "anything")),
        rec(BOB, v2("1", "4", "nowhere", "ping")),
        rec(ALICE | 0x20, v2("1", "1", "room:a", "phx_join")),
    ]),
    # a V1 alice and a V2 bob on one topic; a V1 binary message closes alice
    bytes([1]) + b"".join([
        rec(ALICE, v1("1", "1", "room:lobby", "phx_join")),
        rec(BOB, v2("1", "1", "room:lobby", "phx_join")),
        rec(BOB, v2("1", "2", "room:lobby", "shout", '{"v":2}')),
        rec(ALICE, v1("1", "2", "room:lobby", "shout_tagged", '{"skip":"nobody"}')),
        rec(BOB | BINARY_MSG, bin_push(b"1", b"3", b"room:lobby", b"shout", b"\xff")),
        rec(ALICE | BINARY_MSG, bin_push(b"1", b"3", b"room:lobby", b"ping", b"")),
    ]),
    # configured channels: open with presence, by claim (bob has private:b*), denied, one subscriber
    bytes([0]) + b"".join([
        rec(ALICE, v2("1", "1", "chat:a", "phx_join")),
        rec(BOB, v2("1", "1", "chat:a", "phx_join")),
        rec(ALICE, v2("1", "2", "chat:a", "say", '{"text":"hi"}')),
        rec(BOB | BINARY_MSG, bin_push(b"1", b"2", b"chat:a", b"blob", b"\x00\x01")),
        rec(BOB, v2("1", "3", "chat:a", "presence_diff", '{"joins":{},"leaves":{}}')),
        rec(ALICE, v2("2", "3", "private:bob", "phx_join")),
        rec(BOB, v2("2", "4", "private:bob", "phx_join")),
        rec(BOB, v2("2", "5", "private:bob", "note", '{"n":1}')),
        rec(ALICE, v2("3", "4", "admin:x", "phx_join")),
        rec(ALICE, v2("4", "5", "full:1", "phx_join")),
        rec(BOB, v2("3", "6", "full:1", "phx_join")),
        rec(ALICE, v2("4", "6", "full:1", "anything")),
    ]),
    # small limits: too many channels, a big frame, a reader that stops, an idle sweep
    bytes([4]) + b"".join(
        [rec(ALICE, v2(str(i), str(i), "room:%d" % i, "phx_join")) for i in range(6)]
        + [rec(BOB, v2("1", "1", "room:0", "phx_join")),
           rec(BOB | 0x40, v2("1", "2", "room:0", "shout", '{"pad":"%s"}' % ("x" * 200))),
           rec(BOB | 0x40, v2("1", "3", "room:0", "shout", '{"pad":"%s"}' % ("x" * 200))),
           rec(ALICE, v2("0", "9", "room:0", "ping", '{"pad":"%s"}' % ("y" * 300))),
           rec(BOB | 0x80, v2(None, "4", "phoenix", "heartbeat"))]
    ),
]


# ---- settings: a mode byte (fuzz_config.c), then a config file (0) or NUL-separated flags (1) ----

CONFIG = [
    (0, '{"port":4001,"bind":"127.0.0.1","max_frame_size":"64KiB","max_queue_size":1048576,'
        '"max_body_size":"1MiB","idle_timeout":25,"max_channels":100,"max_connections":100000,'
        '"max_connections_per_user":0,"connection_rate":1000,"allowed_origins":"https://*.example.com",'
        '"longpoll_window":"10s","log_level":"debug","log_format":"json","drain_timeout":"30s",'
        '"compress":true,"compress_mem_level":8,"compress_level":1,"static_dir":"","redis":null,'
        '"cluster_heartbeat":0.5,"cluster_expiry":"5s"}'),
    (0, '{"redis":"redis://127.0.0.1:6379/0","cluster_heartbeat":"500ms","cluster_expiry":"2m","tls_cert":"c.pem"}'),
    (0, '{"port":0}'),
    (0, '{"max_frame_size":"18446744073709551615MiB"}'),
    (0, '{"unknown":1,"port":4000,"port":4001}'),
    (0, '[1]'),
    (1, "--port\x004001\x00--max-frame-size=64k\x00--compress\x00--idle-timeout\x00500ms\x00-c\x00cinder.json"),
    (1, "--compress=off\x00--log-level\x00warn\x00--redis=redis://h:1/0\x00--cluster-expiry=1h"),
    (1, "-hV"),
    (1, "--port"),
    (1, "--nope\x00x"),
]

# ---- what other nodes send: records of header, 2-byte length, bytes (fuzz_envelope.c) ----


def envelope(kind, topic=b"", event=b"", body=b"", origin=0x1122334455667788, seq=0, flags=0):
    return (b"C" + bytes([1, ord(kind), flags]) + struct.pack(">QQ", origin, seq)
            + bytes([len(topic), len(event)]) + topic + event + body)


META = b'{"online_at":1732140000,"phx_ref":"F1"}'
ENVELOPES = [
    b"".join([
        rec(0, envelope("B", b"room:lobby", b"shout", b'{"body":"from node 2"}')),
        rec(0, envelope("B", b"room:lobby", b"shout", b"\x01\x02\x03", flags=2)),
        rec(0, envelope("B", b"room:lobby", b"tagged", b'{"skip":"bob"}', flags=1)),
        rec(0, envelope("B", b"users_socket:alice", b"disconnect", b"{}")),
    ]),
    b"".join([
        rec(0, envelope("H", seq=2)),
        rec(0, envelope("S", body=b'[["room:lobby","dave",' + META + b']]', seq=2)),
        rec(0, envelope("P", b"room:lobby", body=b'{"joins":{"erin":{"metas":[{"phx_ref":"F2"}]}},"leaves":{"dave":{"metas":[' + META + b']}}}', seq=3)),
        rec(0, envelope("P", b"room:lobby", body=b'{"joins":{},"leaves":{}}', seq=5)),
        rec(2 | (40 << 2), envelope("R", b"0000000000000001")),
        rec(2 | (40 << 2), b""),
    ]),
    b"".join([
        rec(1, '{"topic":"room:lobby","event":"shout","payload":{"id":7,"lat":52.5,"lon":13.4}}'),
        rec(1, '{"topic":"room:lobby","event":"tagged","payload":{}}'),
        rec(1, '{"topic":"","event":"e","payload":{}}'),
        rec(0, b"C\x02B"),
        rec(0, envelope("X")),
        rec(0, envelope("B", b"room:lobby", b"", b"{}")),
    ]),
]


def write(target, seeds):
    d = os.path.join(HERE, "corpus", target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for s in seeds:
        if isinstance(s, str):
            s = s.encode()
        # libFuzzer's own naming: the SHA-1 of the contents
        with open(os.path.join(d, hashlib.sha1(s).hexdigest()), "wb") as f:
            f.write(s)


write("fuzz_frame_v2", V2)
write("fuzz_frame_v1", V1)
write("fuzz_frame_binary", BINARY)
write("fuzz_api_body", API)
write("fuzz_lp_batch", [bytes([o]) + b.encode() for o, b in LP])
write("fuzz_conn_messages", CONVOS)
write("fuzz_config", [bytes([m]) + b.encode() for m, b in CONFIG])
write("fuzz_envelope", ENVELOPES)
