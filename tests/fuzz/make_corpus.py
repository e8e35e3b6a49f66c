#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets under tests/fuzz/corpus/:
 - ip4/ (fuzz_ip4_input): a few valid IPv4/UDP packets to the fuzz target's loopback
   (127.0.0.1, UDP port 7 bound) and a few near-misses, as raw IP packets (no link
   header);
 - socket_api/ (fuzz_socket_api): a few programs of pseudo-random bytes (a SHA-256
   chain), which the target decodes into a configuration and three threads' calls.
Deterministic: re-running it rewrites the same files.
Usage: python3 tests/fuzz/make_corpus.py [corpus_root]"""
import hashlib
import os
import struct
import sys


def csum(b: bytes) -> int:
    """RFC 1071 checksum over big-endian 16-bit words."""
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, payload, proto=17, ident=1, flags_frag=0x4000, ttl=64, options=b""):
    ihl = 5 + len(options) // 4
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, ihl * 4 + len(payload), ident, flags_frag, ttl, proto, 0,
                    bytes(src), bytes(dst)) + options
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def udp(src, dst, sport, dport, data, checksum=True):
    length = 8 + len(data)
    u = struct.pack("!HHHH", sport, dport, length, 0) + data
    if checksum:
        c = csum(bytes(src) + bytes(dst) + struct.pack("!BBH", 0, 17, length) + u) or 0xFFFF
        u = u[:6] + struct.pack("!H", c) + u[8:]
    return u


LO = [127, 0, 0, 1]


def packets():
    dns = struct.pack("!HHHHHH", 0x1A2B, 0x0100, 1, 0, 0, 0) + b"\x07example\x03com\x00" + struct.pack("!HH", 1, 1)
    yield "udp_dns_query", ipv4(LO, LO, udp(LO, LO, 45678, 7, dns))
    yield "udp_empty", ipv4(LO, LO, udp(LO, LO, 40000, 7, b""))
    yield "udp_1472", ipv4(LO, LO, udp(LO, LO, 40000, 7, bytes(range(256)) * 5 + bytes(192)))
    yield "udp_no_checksum", ipv4(LO, LO, udp(LO, LO, 40000, 7, b"hello", checksum=False))
    yield "udp_no_listener", ipv4(LO, LO, udp(LO, LO, 40000, 9, b"x"))
    yield "udp_broadcast", ipv4(LO, [127, 255, 255, 255], udp(LO, [127, 255, 255, 255], 40000, 7, b"bc"))
    yield "ip_options", ipv4(LO, LO, udp(LO, LO, 40000, 7, b"opt"), options=b"\x01\x01\x01\x00")
    yield "ip_fragment", ipv4(LO, LO, udp(LO, LO, 40000, 7, b"frag"), flags_frag=0x2000)
    yield "ip_tcp", ipv4(LO, LO, bytes(20), proto=6)
    yield "link_padding", ipv4(LO, LO, udp(LO, LO, 40000, 7, b"pad")) + bytes(6)


def socket_programs():
    for i in range(6):
        size = 200 + i * 100
        h = hashlib.sha256(b"seed%d" % i).digest()
        data = b""
        while len(data) < size:
            h = hashlib.sha256(h).digest()
            data += h
        yield "seed_%d" % i, data[:size]


def write(out, files):
    os.makedirs(out, exist_ok=True)
    n = 0
    for name, data in files:
        with open(os.path.join(out, name + ".bin"), "wb") as f:
            f.write(data)
        n += 1
    print("wrote", n, "files to", out)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    write(os.path.join(root, "ip4"), packets())
    write(os.path.join(root, "socket_api"), socket_programs())


if __name__ == "__main__":
    main()
