#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_dhcp_input under tests/fuzz/corpus/dhcp/: short
sequences of server replies in the target's framing (per message: a flag byte, whose
bit 0 asks the harness to fill in the client's xid and hardware address, a big-endian
2-byte length, the DHCP message). Deterministic: re-running it rewrites the same files.
Usage: python3 tests/fuzz/make_dhcp_corpus.py [corpus_root]"""
import os
import struct
import sys

SERVER = bytes([10, 0, 0, 1])
OFFERED = bytes([10, 0, 0, 50])


def reply(msg_type: int, lease: int | None = 60, yiaddr: bytes = OFFERED, extra: bytes = b"") -> bytes:
    header = bytearray(240)
    header[0:3] = b"\x02\x01\x06"
    header[16:20] = yiaddr
    header[236:240] = b"\x63\x82\x53\x63"
    options = bytes([53, 1, msg_type, 54, 4]) + SERVER + bytes([1, 4, 255, 255, 255, 0, 3, 4]) + SERVER
    if lease is not None:
        options += bytes([51, 4]) + struct.pack("!I", lease)
    return bytes(header) + options + extra + b"\xff"


def framed(*messages: bytes, patch: bool = True) -> bytes:
    return b"".join(bytes([1 if patch else 0]) + struct.pack("!H", len(m)) + m for m in messages)


def main() -> None:
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    out = os.path.join(root, "dhcp")
    os.makedirs(out, exist_ok=True)
    seeds = {
        "offer_ack.bin": framed(reply(2), reply(5)),
        "offer_nak.bin": framed(reply(2), reply(6, lease=None)),
        "offer_ack_t1_t2.bin": framed(reply(2), reply(5, extra=bytes([58, 4, 0, 0, 0, 20, 59, 4, 0, 0, 0, 40]))),
        "ack_while_selecting.bin": framed(reply(5)),
        "offer_not_ours.bin": framed(reply(2), patch=False),
        "offer_truncated_option.bin": framed(reply(2)[:-4]),
        "offer_ack_ack.bin": framed(reply(2), reply(5), reply(5, lease=0xFFFFFFFF)),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
