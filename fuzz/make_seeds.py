#!/usr/bin/env python3
"""Writes the hand-made seed corpus of every fuzz target into fuzz/corpus/<target>/.

Run it after changing a seed here; the generated files are committed. Crash inputs found by
fuzzing are added to corpus/<target>/ by hand (named crash-<what>), never by this script, and
it never deletes them: it only (re)writes the seed-*.bin files it names.
"""
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(target, name, data):
    folder = os.path.join(ROOT, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "seed-" + name + ".bin"), "wb") as f:
        f.write(data)


# ---- native frames (layout in include/heartbeat/protocol/native/frame_codec.hpp) ----------
def frame(ftype, payload, flags=0):
    return struct.pack(">BBI", ftype, flags, len(payload)) + payload


def hello(version=1, min_ms=0, max_ms=0, session_id=0, delivered=0, first_seq=1):
    return frame(1, struct.pack(">HIIQQQ", version, min_ms, max_ms, session_id, delivered, first_seq))


def data(payload, fin=True):
    return frame(2, payload, 1 if fin else 0)


def ping(seq, t=123456):
    return frame(3, struct.pack(">QQ", seq, t))


def pong(seq, t=123456):
    return frame(4, struct.pack(">QQ", seq, t))


def ack(n):
    return frame(5, struct.pack(">Q", n))


def slow_down(ms):
    return frame(6, struct.pack(">I", ms))


def close(code, reason=b""):
    return frame(7, struct.pack(">H", code) + reason)


native_frames = {
    "hello": hello(),
    "hello-range": hello(min_ms=1000, max_ms=5000, session_id=42, delivered=3, first_seq=4),
    "data-fin": data(b"hello"),
    "data-chunks": data(b"hel", fin=False) + data(b"lo"),
    "data-empty": data(b""),
    "ping": ping(1),
    "pong": pong(1),
    "ack": ack(5),
    "slow-down": slow_down(2000),
    "close": close(1000, b"session_closed"),
    "stream": hello() + ping(1) + data(b"abc") + ack(1) + close(1000),
    "truncated": hello()[:20],
    "bad-type": frame(9, b""),
    "bad-flags": frame(3, struct.pack(">QQ", 1, 2), 0x80),
    "too-large": struct.pack(">BBI", 2, 1, 0xFFFFFFFF),
}
for name, b in native_frames.items():
    write("frame_codec", name, b)

# ---- HELLO payload (34 bytes) + our interval in ms (4 bytes) -------------------------------
def hello_payload(version, min_ms, max_ms, ours_ms, first_seq=1):
    return hello(version, min_ms, max_ms, first_seq=first_seq)[6:] + struct.pack(">I", ours_ms)


write("hello_negotiation", "no-limits", hello_payload(1, 0, 0, 2000))
write("hello_negotiation", "ours-inside", hello_payload(1, 1000, 5000, 2000))
write("hello_negotiation", "ours-too-fast", hello_payload(1, 3000, 5000, 1000))
write("hello_negotiation", "ours-too-slow", hello_payload(1, 100, 500, 2000))
write("hello_negotiation", "incompatible", hello_payload(1, 5000, 1000, 2000))
write("hello_negotiation", "extremes", hello_payload(0xFFFF, 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFF, 0))

# ---- WebSocket: ping payload, or key length + key + app heartbeat text ---------------------
write("websocket_heartbeat_codec", "ping-payload", struct.pack(">QQ", 7, 1700000000000000))
write("websocket_heartbeat_codec", "app-ping", b"\x02hb" + b'{"hb":"ping","seq":1,"t":1234}')
write("websocket_heartbeat_codec", "app-pong", b"\x04type" + b'{"type":"pong","seq":18446744073709551615,"t":0}')
write("websocket_heartbeat_codec", "app-zeros", b"\x02hb" + b'{"hb":"ping","seq":007,"t":01}')
write("websocket_heartbeat_codec", "app-trailing", b"\x02hb" + b'{"hb":"pong","seq":1,"t":2} ')

# ---- RESP replies, every type (first byte 3: no size bound) --------------------------------
resp_replies = {
    "simple": b"+OK\r\n",
    "error": b"-ERR unknown command\r\n",
    "integer": b":-42\r\n",
    "bulk": b"$5\r\nhello\r\n",
    "bulk-empty": b"$0\r\n\r\n",
    "null-bulk": b"$-1\r\n",
    "null-array": b"*-1\r\n",
    "array": b"*3\r\n$3\r\nfoo\r\n:1\r\n*0\r\n",
    "null": b"_\r\n",
    "boolean": b"#t\r\n",
    "double": b",-3.14e10\r\n",
    "double-inf": b",inf\r\n",
    "big-number": b"(3492890328409238509324850943850943825024385\r\n",
    "bulk-error": b"!21\r\nSYNTAX invalid syntax\r\n",
    "verbatim": b"=15\r\ntxt:Some string\r\n",
    "map": b"%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n",
    "set": b"~2\r\n+a\r\n+b\r\n",
    "push": b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
    "attribute": b"|1\r\n+ttl\r\n:3600\r\n$1\r\nv\r\n",
    "nested": b"*2\r\n*2\r\n%1\r\n+k\r\n~1\r\n#f\r\n_\r\n:0\r\n",
    "hello3": b"%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n",
    "pipeline": b"+PONG\r\n+PONG\r\n$1\r\nx\r\n",
    "streamed": b"$?\r\n;4\r\nHell\r\n;0\r\n",
}
for name, b in resp_replies.items():
    write("resp_scanner", name, b"\x03" + b)
write("resp_scanner", "bounded-16", b"\x00" + b"$20\r\n01234567890123456789\r\n")

# ---- MQTT packets (first byte: bit 7 MQTT 5, bits 0-1 the size limit: 3 = none) ------------
def mqtt_packet(first, body):
    out = bytes([first])
    n = len(body)
    while True:
        b = n % 128
        n //= 128
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out + body


def mqtt_string(s):
    return struct.pack(">H", len(s)) + s


connack_v5_props = b"\x13\x00\x3c" + b"\x12" + mqtt_string(b"assigned-id") + b"\x27\x00\x00\x10\x00"
mqtt_seeds = {
    "connack": (0x03, mqtt_packet(0x20, b"\x00\x00")),
    "connack-refused": (0x03, mqtt_packet(0x20, b"\x00\x05")),
    "connack-v5": (0x83, mqtt_packet(0x20, b"\x01\x00" + bytes([len(connack_v5_props)]) + connack_v5_props)),
    "connack-v5-short": (0x83, mqtt_packet(0x20, b"\x00\x00")),
    "pingresp": (0x03, b"\xd0\x00"),
    "pingresp-long-length": (0x03, b"\xd0\x80\x00"),
    "publish-qos0": (0x03, mqtt_packet(0x30, mqtt_string(b"a/b") + b"hello")),
    "publish-qos1": (0x03, mqtt_packet(0x32, mqtt_string(b"a/b") + b"\x00\x07" + b"hello")),
    "publish-v5": (0x83, mqtt_packet(0x30, mqtt_string(b"a/b") + b"\x00" + b"hello")),
    "puback": (0x03, mqtt_packet(0x40, b"\x00\x01")),
    "suback": (0x03, mqtt_packet(0x90, b"\x00\x01\x00\x01\x80")),
    "suback-v5": (0x83, mqtt_packet(0x90, b"\x00\x01\x00\x00")),
    "disconnect-v5": (0x83, mqtt_packet(0xE0, b"\x8e\x00")),
    "stream": (0x03, mqtt_packet(0x20, b"\x00\x00") + b"\xd0\x00" + mqtt_packet(0x30, mqtt_string(b"t") + b"x")),
    "too-large": (0x00, b"\x30\xff\xff\xff\x7f"),
}
for name, (options, b) in mqtt_seeds.items():
    write("mqtt_packet", name, bytes([options]) + b)

# ---- lines (first byte: bit 7 LF mode, bits 0-6 the maximum length) ------------------------
write("line_scanner", "crlf", b"\x40" + b"PONG\r\nhello world\r\n+OK\r\n")
write("line_scanner", "lf", b"\xc0" + b"PONG\nwith\rcr\n\n")
write("line_scanner", "bare-lf-in-crlf", b"\x40" + b"PONG\nnext\r\n")
write("line_scanner", "too-long", b"\x04" + b"longer than four\r\n")
write("line_scanner", "cr-at-limit", b"\x04" + b"PONG\r")

# ---- endpoints, every scheme ----------------------------------------------------------------
endpoints = [
    b"127.0.0.1:7000", b"localhost:0", b"[::1]:7000", b"example.com:65535",
    b"ws://127.0.0.1:8080/chat?room=1", b"ws://[::1]/", b"wss://example.com", b"WS://Host:80",
    b"redis://127.0.0.1:6379/3?protocol=2&name=fuzz", b"redis://user:p%40ss@cache",
    b"rediss://:secret@[::1]:6380", b"mqtt://user:pw@broker:1883?client_id=c1&version=5&keep_alive=30",
    b"mqtts://broker", b"mqtt://broker?version=3.1.1",
    b"line://127.0.0.1:6000?ping=PING&pong=%2BPONG&match=prefix&eol=lf&max_line=512&goodbye=QUIT",
    b"lines://host:7?ping=hi", b"http://nope", b"host:99999", b"::1:80",
]
for i, text in enumerate(endpoints):
    write("endpoint", "%02d" % i, text)


# ---- whole sessions: options byte, separator byte, then what the peer sends ----------------
# options: bit 0 silent at end, bits 1-2 write limit, bit 3 send, bit 4 close, bit 5 variant,
# bit 6 never receive (support/session_harness.hpp). Separator 0xFF splits reads.
SEP = b"\xff"


def session_seed(target, name, options, chunks):
    joined = SEP.join(chunks)
    write(target, name, bytes([options]) + SEP + joined)


session_seed("native_session", "hello-eof", 0x00, [hello()])
session_seed("native_session", "hello-data", 0x08, [hello(), data(b"hi"), data(b"part", False), data(b"end")])
session_seed("native_session", "hello-split", 0x02, [hello()[:3], hello()[3:], ping(1)[:7], ping(1)[7:]])
session_seed("native_session", "ping-flood", 0x00, [hello(), ping(1), ping(2), ping(3), ping(4)])
session_seed("native_session", "silent", 0x01, [hello()])
session_seed("native_session", "pong-unexpected", 0x00, [hello(), pong(99)])
session_seed("native_session", "ack-slowdown-close", 0x0c, [hello(), ack(1), slow_down(5), close(1000, b"bye")])
session_seed("native_session", "resume", 0x28, [hello(session_id=42, first_seq=3), data(b"x"), data(b"y")])
session_seed("native_session", "incompatible", 0x00, [hello(min_ms=5000, max_ms=1000)])
session_seed("native_session", "data-before-hello", 0x00, [data(b"x")])
session_seed("native_session", "close-at-once", 0x18, [hello(), data(b"x")])
session_seed("native_session", "full-inbox", 0x40, [hello()] + [data(b"z" * 1000)] * 12)

session_seed("native_session", "lockstep-pongs", 0x80, [hello(), pong(1), pong(2), data(b"x"), pong(3)])
session_seed("native_session", "lockstep-send", 0x88, [hello(min_ms=1, max_ms=10), ack(1), pong(1), slow_down(3)])

hello3 = resp_replies["hello3"]
session_seed("resp_session", "hello3", 0x00, [hello3, b"+PONG\r\n"])
session_seed("resp_session", "hello3-command", 0x08, [hello3, b"$1\r\nv\r\n", b">2\r\n+message\r\n+x\r\n"])
session_seed("resp_session", "hello3-silent", 0x01, [hello3])
session_seed("resp_session", "resp2", 0x20, [b"+OK\r\n", b"+OK\r\n+PONG\r\n", b"+PONG\r\n"])
session_seed("resp_session", "wrongpass", 0x20, [b"-WRONGPASS invalid username-password pair\r\n"])
session_seed("resp_session", "noproto", 0x00, [b"-NOPROTO unsupported protocol version\r\n"])
session_seed("resp_session", "unexpected", 0x00, [hello3, b"+PONG\r\n+PONG\r\n+PONG\r\n"])
session_seed("resp_session", "split", 0x04, [hello3[:5], hello3[5:], b"+PO", b"NG\r\n"])

session_seed("resp_session", "lockstep-pongs", 0x80, [hello3, b"+PONG\r\n", b"+PONG\r\n"])
session_seed("resp_session", "lockstep-command", 0x88, [hello3, b"$1\r\nv\r\n", b"+PONG\r\n"])
session_seed("resp_session", "lockstep-resp2", 0xa0, [b"+OK\r\n+OK\r\n+PONG\r\n", b"+PONG\r\n", b"+PONG\r\n"])

connack = mqtt_packet(0x20, b"\x00\x00")
session_seed("mqtt_session", "connack", 0x00, [connack, b"\xd0\x00"])
session_seed("mqtt_session", "connack-publish", 0x08, [connack, mqtt_packet(0x30, mqtt_string(b"a") + b"x"), mqtt_packet(0x40, b"\x00\x01")])
session_seed("mqtt_session", "connack-silent", 0x01, [connack])
session_seed("mqtt_session", "refused", 0x00, [mqtt_packet(0x20, b"\x00\x04")])
session_seed("mqtt_session", "v5-connack", 0x20, [mqtt_packet(0x20, b"\x00\x00" + bytes([len(connack_v5_props)]) + connack_v5_props), b"\xd0\x00"])
session_seed("mqtt_session", "v5-disconnect", 0x20, [mqtt_packet(0x20, b"\x00\x00\x00"), mqtt_packet(0xE0, b"\x8e\x00")])
session_seed("mqtt_session", "not-mqtt", 0x00, [b"HTTP/1.1 400 Bad Request\r\n\r\n"])
session_seed("mqtt_session", "close", 0x10, [connack])

session_seed("mqtt_session", "lockstep-pingresp", 0x80, [connack, b"\xd0\x00", b"\xd0\x00"])
session_seed("mqtt_session", "lockstep-publish", 0x88, [connack, mqtt_packet(0x40, b"\x00\x01"), b"\xd0\x00"])
session_seed("line_session", "lockstep-pongs", 0x80, [b"welcome\r\n", b"PONG\r\n", b"PONG\r\n"])
session_seed("line_session", "lockstep-prefix", 0xa8, [b"hi\n", b"+PONG ok\n", b"reply\n"])
session_seed("line_session", "pong", 0x00, [b"PONG\r\n", b"hello\r\n"])
session_seed("line_session", "send", 0x08, [b"welcome\r\n", b"PONG\r\n"])
session_seed("line_session", "silent", 0x01, [b"hi\r\n"])
session_seed("line_session", "prefix-lf", 0x20, [b"+PONG extra\n", b"line\n"])
session_seed("line_session", "too-long", 0x00, [b"x" * 100 + b"\r\n"])
session_seed("line_session", "close", 0x12, [b"PONG\r\n"])


# ---- WebSocket session (server role): masked client frames after the harness's upgrade -------
def ws_frame(opcode, payload, fin=True, mask=b"\x12\x34\x56\x78"):
    assert len(payload) < 126
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([(0x80 if fin else 0) | opcode, 0x80 | len(payload)]) + mask + masked


ws_ping_payload = struct.pack(">QQ", 1, 1700000000000000)
session_seed("websocket_session", "text", 0x00, [ws_frame(1, b"hello")])
session_seed("websocket_session", "binary-send", 0x08, [ws_frame(2, b"\x00\x01"), ws_frame(1, b"x")])
session_seed("websocket_session", "fragments", 0x00, [ws_frame(1, b"par", False), ws_frame(9, b"p"), ws_frame(0, b"ts")])
session_seed("websocket_session", "ping-pong", 0x80, [ws_frame(9, b"hi"), ws_frame(10, ws_ping_payload), ws_frame(10, b"unsolicited")])
session_seed("websocket_session", "close", 0x10, [ws_frame(8, struct.pack(">H", 1000) + b"bye")])
session_seed("websocket_session", "silent", 0x01, [ws_frame(1, b"then nothing")])
session_seed("websocket_session", "unmasked", 0x00, [bytes([0x81, 0x02]) + b"hi"])
session_seed("websocket_session", "split", 0x02, [ws_frame(1, b"split frame")[:3], ws_frame(1, b"split frame")[3:]])
session_seed("websocket_session", "app-heartbeat", 0xa0, [ws_frame(1, b'{"hb":"ping","seq":1,"t":5}'), ws_frame(1, b'{"hb":"pong","seq":1,"t":5}'), ws_frame(1, b"data")])

