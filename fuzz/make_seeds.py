#!/usr/bin/env python3
"""Write the committed fuzz seeds from the classic-suite golden transcript.

Run from the repository root: python3 fuzz/make_seeds.py
Each target gets well-formed examples of the message it parses, so the
fuzzer starts from valid structure instead of noise.
"""
import json
import pathlib

root = pathlib.Path(__file__).resolve().parent
golden = json.loads((root.parent / "crates/e2e/tests/golden/session-classic1024.json").read_text())
session = golden["session"]
seeds = root / "seeds"


def put(target, name, data):
    d = seeds / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


for i, join in enumerate(session["joins"]):
    m = join["messages"]
    put("handshake_hello", f"hello-{i}", bytes.fromhex(m["hello"]))
    put("handshake_challenge", f"challenge-{i}", bytes.fromhex(m["challenge"]))
    put("handshake_proof", f"proof-{i}", bytes.fromhex(m["proof"]))
    put("handshake_confirm", f"confirm-{i}", bytes.fromhex(m["confirm"]))
for i, d in enumerate(session["deliveries"]):
    put("key_delivery", f"delivery-{i}", bytes.fromhex(d["bytes"]))
for i, p in enumerate(session["packets"]):
    aad = bytes.fromhex(p["aad"])
    sealed = bytes.fromhex(p["sealed"])
    put("packet_open", f"packet-{i}-{p['class']}", bytes([len(aad)]) + aad + sealed)
    plain = bytes.fromhex(p["plaintext"])
    control = min(len(aad), 0x3F) | (0x40 if p["compression"] == "if-smaller" else 0) | (0x80 if i % 2 else 0)
    put("packet_roundtrip", f"body-{i}-{p['class']}", bytes([control]) + aad[:0x3F] + plain)
# LZ4 block bodies behind a 4-byte original length: literals only, and a match.
put("decompress", "literals", bytes.fromhex("00000005") + bytes([0x50]) + b"hello")
put("decompress", "match", bytes.fromhex("0000000c") + bytes([0x35]) + b"abc" + bytes([3, 0]) + bytes([0x00]))
put("decompress", "lying-length", bytes.fromhex("7fffffff") + bytes([0x50]) + b"hello")
put("join_secret", "code", b"123 456 789 012")
put("join_secret", "code-dashes", b"123-456-789-012")
put("join_secret", "link", b"https://support.example/join/AAECAwQFBgcICQoLDA0ODw#EBESExQVFhcYGRobHB0eHw")
put("join_secret", "link-query", b"https://h/join/AAECAwQFBgcICQoLDA0ODw/?x=1#EBESExQVFhcYGRobHB0eHw")

# Relay-protocol frames: an Admit, an Ack, a Close and data frames.
put("relay_frame", "admit", bytes.fromhex("0101000474696b74") + b"\x00")
put("relay_frame", "ack", bytes.fromhex("03000000000000002a"))
put("relay_frame", "close", bytes.fromhex("040fa909") + b"too slow!")
data_frame = bytes.fromhex("10000300") + bytes(range(16)) + bytes.fromhex("00000002000000000000000c") + b"hello, world"
put("relay_frame", "data", data_frame)
put("relay_core", "admit-then-data", bytes.fromhex("0101000474696b7400") + b"\xfe" + data_frame + b"\xfe" + bytes.fromhex("03000000000000002a"))
put("ticket", "shape", bytes(80 + 64))
put("message", "chat", bytes.fromhex("10000000000000000000") + b'{"text":"hi"}')
put("message", "ack", bytes.fromhex("020001") + bytes.fromhex("00000001") + b"\x00" + bytes(8))
put("message", "file-chunk", bytes.fromhex("21010000000000000005") + bytes.fromhex("00000001") + bytes(8) + b"data")
put("endpoint_frame", "data", data_frame + b"\xff" + bytes.fromhex("10000100") + bytes([7]*16) + bytes.fromhex("000000010000000200000001") + b"\x02")
# Messages of the agent's channels: type | stream | rseq (8) | body.
reliable = lambda kind, body: bytes([kind, 0]) + (7).to_bytes(8, "big") + body
put("message", "input-move", reliable(0x40, bytes([1]) + (5).to_bytes(4, "big") + (6).to_bytes(4, "big")))
put("message", "input-text", reliable(0x40, bytes([6]) + "héllo".encode()))
put("message", "clipboard", reliable(0x41, b"copied"))
put("message", "screen-piece", reliable(0x30, bytes([1, 0x10, 0, 0, 0, 5])))
# Control bodies (JSON).
for name, body in {
    "granted": {"type": "granted", "permissions": ["view", "control"]},
    "file-accept": {"type": "file_accept", "id": 3, "offset": 65536},
    "request": {"type": "request", "expert": "Ada", "permissions": ["view", "files"]},
    "denied": {"type": "denied", "what": "input", "reason": "no control permission"},
    "diag": {"type": "diagnostics_request"},
}.items():
    put("control", name, json.dumps(body).encode())
