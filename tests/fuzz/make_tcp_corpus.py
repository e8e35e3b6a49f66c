#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_tcp_input (tests/fuzz/corpus/tcp/): TCP segments
(header + payload, no IP header; the harness adds it, from 10.0.0.2 to 10.0.0.1) with
the numbers the harness's connections use: our ISN 1000, the peer's 50000; the
passive connection is 10.0.0.2:5000 -> :80 (listener :80), the active one
:6000 -> 10.0.0.2:7000 with 3000 bytes queued. Checksums are 0 (the harness turns
verification off). Deterministic: re-running it rewrites the same files.
Usage: python3 tests/fuzz/make_tcp_corpus.py [out_dir]"""
import os
import struct
import sys

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
OUR, PEER = 1000, 50000


def tcp(sport, dport, seq, ack, flags, data=b"", wnd=8192, options=b""):
    hlen = 20 + len(options)
    return struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, (hlen // 4) << 4, flags,
                       wnd, 0, 0) + options + data


MSS = b"\x02\x04\x05\xb4"


def segments():
    p = (5000, 80)  # passive connection, peer -> us
    a = (7000, 6000)  # active connection, peer -> us
    yield "passive_data", tcp(*p, PEER + 1, OUR + 1, ACK | PSH, b"hello world")
    yield "passive_data_ooo", tcp(*p, PEER + 101, OUR + 1, ACK, bytes(100))
    yield "passive_fin", tcp(*p, PEER + 1, OUR + 1, FIN | ACK)
    yield "passive_data_fin", tcp(*p, PEER + 1, OUR + 1, FIN | ACK | PSH, b"bye")
    yield "passive_rst", tcp(*p, PEER + 1, 0, RST)
    yield "passive_rst_in_window", tcp(*p, PEER + 50, 0, RST)
    yield "passive_syn_again", tcp(*p, PEER, 0, SYN, options=MSS)
    yield "passive_zero_window", tcp(*p, PEER + 1, OUR + 1, ACK, wnd=0)
    yield "passive_old_data", tcp(*p, PEER - 100, OUR + 1, ACK, bytes(150))
    yield "active_ack_half", tcp(*a, PEER + 1, OUR + 1 + 700, ACK)
    yield "active_ack_all", tcp(*a, PEER + 1, OUR + 1 + 1500, ACK)
    yield "active_dupack", tcp(*a, PEER + 1, OUR + 1, ACK)
    yield "active_ack_unsent", tcp(*a, PEER + 1, OUR + 1 + 2999, ACK)
    yield "active_fin", tcp(*a, PEER + 1, OUR + 1 + 1500, FIN | ACK)
    yield "active_data", tcp(*a, PEER + 1, OUR + 1, ACK | PSH, bytes(range(200)))
    yield "active_zero_window", tcp(*a, PEER + 1, OUR + 1 + 1500, ACK, wnd=0)
    yield "listen_syn", tcp(6001, 80, 123456, 0, SYN, options=MSS)
    yield "listen_syn_options", tcp(6002, 80, 9, 0, SYN, options=b"\x01\x01\x03\x03\x07\x04\x02" + MSS + b"\x00")
    yield "listen_ack", tcp(6003, 80, 1, 2, ACK)
    yield "no_port", tcp(1, 9, 1, 1, ACK)
    yield "bad_options", tcp(*p, PEER + 1, OUR + 1, ACK, options=b"\x02\x03\x05\x00")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "tcp")
    os.makedirs(out, exist_ok=True)
    for name, seg in segments():
        with open(os.path.join(out, name + ".bin"), "wb") as f:
            f.write(seg)


if __name__ == "__main__":
    main()
