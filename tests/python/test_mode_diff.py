"""lwbench.mode_diff: harness frames stay out of the mode diff; too few samples give a warning."""

from lwbench import mode_diff


def _profile(name, folded):
    return mode_diff.ModeProfile(name, folded, {"context-switches": {"value": None}})


def test_harness_frames_are_left_out_of_the_diff():
    sort = "app [1];main;lwbench::harness::accumulator::finish;std::__introsort_loop<double*>"
    startup = "app [1];_dl_start;_dl_relocate_object"
    mp = _profile("message_passing", {"app [1];main;stack::call;futex_wait": 900, sort: 10})
    cl = _profile("core_locking", {"app [1];main;stack::call;inet_chksum": 30, sort: 300, startup: 200})
    measured, harness = mode_diff.split_harness(cl.folded)
    assert set(harness) == {sort, startup} and list(measured) == ["app [1];main;stack::call;inet_chksum"]
    text, warnings = mode_diff.mode_diff_markdown(mp, cl, ["--api", "socket"], "cpu-clock", 999)
    assert "introsort" not in text and "_dl_" not in text  # the sort is no "gain of core locking"
    assert "inet_chksum" in text and "futex_wait" in text
    assert "core locking, 500" in text or "core locking 500" in text  # harness samples are counted
    # core locking has 30 measured samples: far too few to rank symbols
    assert len(warnings) == 1 and "core locking: only 30 measured samples" in warnings[0]
    assert "**Warning:**" in text


def test_enough_samples_no_warning():
    mp = _profile("message_passing", {"t [1];main;a": 800})
    cl = _profile("core_locking", {"t [1];main;b": 700})
    _, warnings = mode_diff.mode_diff_markdown(mp, cl, [], "cpu-clock", 999)
    assert warnings == []
