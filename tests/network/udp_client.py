"""A bounded UDP echo client, run by the tests inside the namespace (the kernel's side).

usage: udp_client.py HOST PORT COUNT
Sends COUNT datagrams of varied sizes (1..1472 bytes, the most one 1500-byte frame
carries), each waiting up to 2 s for its echo (three tries), and prints one JSON
object: how many came back intact, how many were lost or wrong, the slowest round
trip. Exits 0 whatever the outcome: the test judges the numbers.
"""

import json
import socket
import sys
import time

host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.settimeout(2.0)
echoed = lost = wrong = 0
slowest = 0.0
for i in range(count):
    size = 1 + (i * 389) % 1472
    payload = bytes((i + k) % 251 for k in range(size))
    for attempt in range(3):
        start = time.monotonic()
        sock.sendto(payload, (host, port))
        try:
            data, source = sock.recvfrom(2048)
        except socket.timeout:
            continue
        slowest = max(slowest, time.monotonic() - start)
        if data == payload and source == (host, port):
            echoed += 1
        else:
            wrong += 1
        break
    else:
        lost += 1
print(json.dumps({"echoed": echoed, "lost": lost, "wrong": wrong, "slowest_s": slowest}))
