"""perf script -> folded stacks, symbol rankings and profile diffs.

The fixture fixtures/perf_script_small.txt is hand-written in the default
`perf script` format: 10 samples over several threads (comm with a space,
pid/tid and plain tid headers), kernel frames, +0x offsets, symbols with
parentheses, a dso marked "(deleted)", [unknown] frames (alone, with a known
dso, and as a run of garbage frames), a sample without frames, comment lines
and a double blank line.
"""

from pathlib import Path

import pytest

from lwbench import perf_fold
from lwbench.perf_fold import SymbolDiff, SymbolShare

FIXTURE = Path(__file__).parent / "fixtures" / "perf_script_small.txt"

SEND = (
    "lwbench;__libc_start_call_main;main;lwbench::lwip_sendto;lwbench::tcpip_api_call_locked;"
    "lwbench::udp_sendto(lwbench::udp_pcb*, lwbench::pbuf*, lwbench::ip4_addr const&, unsigned short);"
    "lwbench::inet_chksum_pbuf(lwbench::pbuf const&)"
)
TCPIP_CHKSUM = (
    "tcpip;__clone3;start_thread;[libstdc++.so.6.0.30];lwbench::tcpip_thread_main();"
    "lwbench::run_api_msg(lwbench::api_msg&)::{lambda()#1}::operator()() const;"
    "lwbench::inet_chksum_pbuf(lwbench::pbuf const&)"
)
TCPIP_WAKE = (
    "tcpip;__clone3;start_thread;[libstdc++.so.6.0.30];lwbench::tcpip_thread_main();"
    "lwbench::mailbox::post(lwbench::tcpip_msg*);__GI___lll_lock_wake;entry_SYSCALL_64_after_hwframe;"
    "futex_wake;try_to_wake_up;_raw_spin_unlock_irqrestore"
)
APP = "app 0;[unknown];__memmove_avx_unaligned_erms"
NO_FRAMES = "lwbench;[no frames]"
DELETED = "mbox-worker;[lwbench-old];lwbench::sys::spin_then_block_mailbox::fetch()"
GARBAGE = "lwbench;[unknown];copy_process;__pi_memcpy"

EXPECTED_SAMPLES = {
    SEND: 2,
    TCPIP_CHKSUM: 2,
    TCPIP_WAKE: 1,
    APP: 1,
    NO_FRAMES: 1,
    DELETED: 1,
    GARBAGE: 1,
}
EXPECTED_PERIOD = {
    SEND: 1001001 + 2000000,
    TCPIP_CHKSUM: 2 * 1001001,
    TCPIP_WAKE: 1001001,
    APP: 500000,
    NO_FRAMES: 1001001,
    DELETED: 1001001,
    GARBAGE: 1001001,
}


@pytest.fixture(scope="module")
def folded():
    return perf_fold.read_perf_script(FIXTURE)


def test_fold_counts_samples_exactly(folded):
    assert folded == EXPECTED_SAMPLES
    assert perf_fold.total_weight(folded) == 9


def test_fold_weighted_by_period():
    assert perf_fold.read_perf_script(FIXTURE, weight="period") == EXPECTED_PERIOD


def test_fold_without_comm_root():
    f = perf_fold.read_perf_script(FIXTURE, include_comm=False)
    # Without the thread name the two checksum stacks stay distinct (different callers)...
    assert f[SEND.split(";", 1)[1]] == 2
    assert f[TCPIP_CHKSUM.split(";", 1)[1]] == 2
    # ...and a frameless sample is just the marker.
    assert f["[no frames]"] == 1
    assert sum(f.values()) == 9


def test_event_filter_ignores_modifiers():
    assert perf_fold.read_perf_script(FIXTURE, event="cpu-clock") == EXPECTED_SAMPLES
    assert perf_fold.read_perf_script(FIXTURE, event="cycles") == {}


def test_frame_parsing_edge_cases():
    text = (
        "worker 1 [002] 1.000000: 10 cpu-clock:\n"
        "\t   1 ns::f(int) const+0x4 (/bin/x (deleted))\n"
        "\t   2 g;h+0x10 (/bin/x)\n"  # ';' in a name must not split a frame
        "\t   3 [unknown] (/usr/lib/libfoo.so.1)\n"
        "\t   4 no_dso_symbol+0xff\n"
        "this line is noise and is ignored\n"
        "worker 1 [002] 1.000001: 10 cpu-clock:\n"  # no blank line before this header
        "\t   5 leaf (/bin/x)\n"
    )
    f = perf_fold.fold_perf_script(text)
    assert f == {
        "worker;no_dso_symbol;[libfoo.so.1];g:h;ns::f(int) const": 1,
        "worker;leaf": 1,
    }


def test_period_weight_requires_period():
    with pytest.raises(ValueError):
        perf_fold.fold_perf_script("w 1 1.0: cpu-clock:\n\t 1 f (/x)\n", weight="period")
    with pytest.raises(ValueError):
        perf_fold.fold_perf_script("", weight="bytes")


def test_format_and_parse_roundtrip(folded, tmp_path):
    text = perf_fold.format_folded(folded)
    lines = text.splitlines()
    assert lines[0] == f"{SEND} 2"  # heaviest first, ties by name
    assert lines[1] == f"{TCPIP_CHKSUM} 2"
    assert perf_fold.parse_folded(text) == folded
    path = tmp_path / "folded.txt"
    perf_fold.write_folded(folded, path)
    assert perf_fold.read_folded(path) == folded


def test_top_self(folded):
    share = 100.0 / 9
    assert perf_fold.top_self(folded, 6, drop_root=True) == [
        SymbolShare("lwbench::inet_chksum_pbuf(lwbench::pbuf const&)", 4, pytest.approx(4 * share)),
        SymbolShare("[no frames]", 1, pytest.approx(share)),
        SymbolShare("__memmove_avx_unaligned_erms", 1, pytest.approx(share)),
        SymbolShare("__pi_memcpy", 1, pytest.approx(share)),
        SymbolShare("_raw_spin_unlock_irqrestore", 1, pytest.approx(share)),
        SymbolShare("lwbench::sys::spin_then_block_mailbox::fetch()", 1, pytest.approx(share)),
    ]
    assert len(perf_fold.top_self(folded, None, drop_root=True)) == 6


def test_top_inclusive(folded):
    top = perf_fold.top_inclusive(folded, 6, drop_root=True)
    assert [(s.symbol, s.weight) for s in top] == [
        ("lwbench::inet_chksum_pbuf(lwbench::pbuf const&)", 4),
        ("[libstdc++.so.6.0.30]", 3),
        ("__clone3", 3),
        ("lwbench::tcpip_thread_main()", 3),
        ("start_thread", 3),
        ("[unknown]", 2),
    ]
    # Without drop_root the thread names rank too ("lwbench" roots 4 samples).
    assert ("lwbench", 4) in [(s.symbol, s.weight) for s in perf_fold.top_inclusive(folded, 3)]


def test_inclusive_counts_recursion_once():
    top = perf_fold.top_inclusive({"t;a;b;a;c": 1, "t;d": 1}, None, drop_root=True)
    assert SymbolShare("a", 1, 50.0) in top


def test_diff_self_and_inclusive():
    a = {"t;x;y": 3, "t;x": 1}
    b = {"t;x;y": 1, "t;z": 3}
    assert perf_fold.diff(a, b, drop_root=True) == [
        SymbolDiff("y", 75.0, 25.0, 50.0),
        SymbolDiff("x", 25.0, 0.0, 25.0),
        SymbolDiff("z", 0.0, 75.0, -75.0),
    ]
    assert perf_fold.diff(a, b, by="inclusive", drop_root=True) == [
        SymbolDiff("x", 100.0, 25.0, 75.0),
        SymbolDiff("y", 75.0, 25.0, 50.0),
        SymbolDiff("z", 0.0, 75.0, -75.0),
    ]
    # min_share drops symbols small in both profiles; shares are per profile.
    assert [d.symbol for d in perf_fold.diff(a, b, drop_root=True, min_share=30.0)] == ["y", "z"]
    with pytest.raises(ValueError):
        perf_fold.diff(a, b, by="children")


def test_diff_on_fixture_threads(folded):
    only_tcpip = {k: v for k, v in folded.items() if k.startswith("tcpip;")}
    d = {x.symbol: x for x in perf_fold.diff(folded, only_tcpip, drop_root=True)}
    chk = d["lwbench::inet_chksum_pbuf(lwbench::pbuf const&)"]
    assert chk.share_a == pytest.approx(400 / 9)
    assert chk.share_b == pytest.approx(200 / 3)
    assert chk.delta == pytest.approx(400 / 9 - 200 / 3)
