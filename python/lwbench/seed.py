"""The seed comparison's 2007 figures: the only hard-coded numbers in lwbench's Python side.

As reported by lwIP's developers in 2007 for a 1458-byte UDP send on an embedded target
(not measured by lwbench): lwip_sendto() 204 µs with message passing, 67 µs with core
locking, and the raw udp_sendto() 74 µs. Everything that shows them (the seed figure,
the report page) takes them from here and labels them "as reported".
"""

__all__ = ["SEED_2007_US", "SEED_LABEL", "SEED_PAYLOAD_BYTES"]

SEED_2007_US = {"message_passing": 204.0, "core_locking": 67.0, "raw": 74.0}
SEED_LABEL = "seed, 2007, as reported"
SEED_PAYLOAD_BYTES = 1458
