"""Fold `perf script` text into stacks, rank symbols, and compare two profiles.

Input contract: the *default* text format of `perf script` (no -F needed)::

    <comm> <pid>[/<tid>] [<cpu>] <time>: [<period>] <event>:
    \t<hex address> <symbol>[+0x<offset>] (<dso>)      <- leaf frame first
    \t<hex address> <symbol>[+0x<offset>] (<dso>)      <- ... towards the root
    <blank line>

`comm` may contain spaces, `pid/tid`, `[cpu]` and `period` are optional,
`symbol` may itself contain parentheses (C++ signatures, lambdas) - the dso is
the *last* balanced parenthesised group on the line.

Output contract: *folded stacks*, the format flame-graph tools exchange: a dict
mapping ``"root;caller;...;leaf"`` to a weight (number of samples, or the sum
of the samples' periods).  Frames are normalised so that the same function
always folds to the same name:

* the ``+0x...`` offset is stripped;
* a frame without a symbol becomes ``[<dso basename>]`` (e.g. ``[libc.so.6]``),
  or ``[unknown]`` when the dso is unknown too;
* ``;`` inside a name (never legal in C/C++ symbols, but comm is free text) is
  replaced by ``:`` so it cannot split a frame;
* by default the thread's comm is the root frame; with ``root="thread"`` the
  root is the thread's role and id instead (``tcpip thread [4312]``,
  ``application thread [4310]``: every thread of lwbench has the same comm, so
  the role is read from all the frames sampled on that thread, see `thread_role`), which keeps the tcpip
  thread and the application threads apart in a flame graph;
* a sample with no frames at all folds to ``<comm>;[no frames]``;
* a run of consecutive ``[unknown]`` frames folds to one: such runs are what
  frame-pointer unwinding produces when it walks into code built without
  frame pointers (up to perf's 127-frame limit), and carry no information.

Nothing here runs perf; it only reads text, so it is unit-testable with a
checked-in fixture.
"""

from __future__ import annotations

import os
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Iterable, Mapping

__all__ = [
    "fold_perf_script",
    "thread_role",
    "THREAD_ROLES",
    "read_perf_script",
    "format_folded",
    "parse_folded",
    "read_folded",
    "write_folded",
    "total_weight",
    "SymbolShare",
    "SymbolDiff",
    "top_self",
    "top_inclusive",
    "diff",
    "NO_FRAMES",
    "UNKNOWN",
]

UNKNOWN = "[unknown]"
NO_FRAMES = "[no frames]"

# Sample header.  The event is the longest non-blank run ending in ':' that is
# followed by blank/end, so "cpu-clock:pppH:" and "sched:sched_switch:" both
# parse; trailing text (tracepoint payloads) goes to `rest` and is ignored.
_HEADER = re.compile(
    r"^(?P<comm>\S.*?)\s+"
    r"(?P<pid>-?\d+)(?:/(?P<tid>-?\d+))?\s+"
    r"(?:\[(?P<cpu>\d+)\]\s+)?"
    r"(?P<time>\d+\.\d+):\s+"
    r"(?:(?P<period>\d+)\s+)?"
    r"(?P<event>\S+?):(?=\s|$)"
    r"(?P<rest>.*)$"
)
_FRAME = re.compile(r"^\s+(?P<addr>[0-9a-fA-F]+)\s+(?P<rest>.*?)\s*$")
_OFFSET = re.compile(r"\+0x[0-9a-fA-F]+$")
# perf appends sample-modifier letters to the event name ("cpu-clock:pppH").
_EVENT_MODIFIERS = re.compile(r":[ukhHGIpPSDWe]+$")


def _split_symbol_dso(text: str) -> tuple[str, str | None]:
    """Split "<symbol> (<dso>)" where symbol may contain parentheses.

    Scans back from the final ')' to its balanced '(' so that
    "f(int) const+0x4 (/bin/x (deleted))" -> ("f(int) const+0x4", "/bin/x (deleted)").
    """
    if not text.endswith(")"):
        return text, None
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        ch = text[i]
        if ch == ")":
            depth += 1
        elif ch == "(":
            depth -= 1
            if depth == 0:
                # A dso group is separated from the symbol by blank space (or
                # is the whole line); "f(int)" glued to its name is not a dso.
                if i == 0 or text[i - 1].isspace():
                    return text[:i].strip(), text[i + 1 : -1].strip()
                return text, None
    return text, None


def _frame_name(symbol: str, dso: str | None) -> str:
    """Normalised frame name (see the module contract)."""
    symbol = _OFFSET.sub("", symbol.strip())
    if symbol in ("", UNKNOWN):
        if dso and dso != UNKNOWN:
            base = os.path.basename(dso.removesuffix(" (deleted)").strip()) or dso
            symbol = base if base.startswith("[") else f"[{base}]"
        else:
            symbol = UNKNOWN
    return symbol.replace(";", ":")


def _event_name(raw: str) -> str:
    return _EVENT_MODIFIERS.sub("", raw)


#: (frame pattern, role) in priority order: the first pattern found on a sample's stack names its thread.
THREAD_ROLES = (
    (re.compile(r"tcpip_thread"), "tcpip thread"),   # ours: stack::tcpip_thread_main; lwIP: tcpip_thread
    (re.compile(r"timer_thread"), "timer thread"),
    (re.compile(r"^main$"), "application thread (main)"),
)


def thread_role(frames: list[str]) -> str:
    """The role of a thread judged from frames sampled on it (THREAD_ROLES, first match wins)."""
    for pattern, role in THREAD_ROLES:
        if any(pattern.search(f) for f in frames):
            return role
    return "application thread"


def fold_perf_script(
    text: str | Iterable[str],
    *,
    weight: str = "samples",
    include_comm: bool = True,
    root: str | None = None,
    event: str | None = None,
) -> dict[str, int]:
    """Fold `perf script` output into ``{"root;...;leaf": weight}``.

    text:         the whole output as one string, or an iterable of lines.
    weight:       "samples" (each sample counts 1) or "period" (each sample
                  counts its period, e.g. ns of CPU time for cpu-clock).
    include_comm: make the thread's comm the root frame (when root is None).
    root:         "comm" (as include_comm=True), "thread" (the thread's role and
                  tid, e.g. "tcpip thread [4312]"), "none"; None: follow include_comm.
    event:        keep only samples of this event (modifiers ignored), e.g.
                  "cpu-clock"; None keeps all.
    Lines that are neither a sample header nor a frame (comments, warnings)
    are ignored.  Raises ValueError for weight="period" when a sample header
    carries no period.
    """
    if weight not in ("samples", "period"):
        raise ValueError(f"weight must be 'samples' or 'period', not {weight!r}")
    how = root if root is not None else ("comm" if include_comm else "none")
    if how not in ("comm", "thread", "none"):
        raise ValueError(f"root must be 'comm', 'thread' or 'none', not {root!r}")
    lines = text.splitlines() if isinstance(text, str) else text
    folded: Counter[str] = Counter()
    by_thread: dict[str, Counter[str]] = defaultdict(Counter)  # tid -> stacks, for root="thread"

    header: re.Match[str] | None = None
    frames: list[str] = []

    def flush() -> None:
        if header is None:
            return
        if event is not None and _event_name(header["event"]) != event:
            return
        if weight == "period":
            if header["period"] is None:
                raise ValueError(f"sample has no period: {header.string!r}")
            w = int(header["period"])
        else:
            w = 1
        stack = list(reversed(frames)) or [NO_FRAMES]
        if how == "thread":
            # The root is named after the whole thread, not this sample (see below).
            by_thread[header["tid"] or header["pid"]][";".join(stack)] += w
            return
        if how == "comm":
            stack.insert(0, header["comm"].strip().replace(";", ":"))
        folded[";".join(stack)] += w

    for raw in lines:
        line = raw.rstrip("\n")
        if not line.strip():
            flush()
            header, frames = None, []
            continue
        if line.startswith("#"):
            continue
        if line[0].isspace():
            m = _FRAME.match(line)
            if m and header is not None:
                symbol, dso = _split_symbol_dso(m["rest"])
                name = _frame_name(symbol, dso)
                if not (name == UNKNOWN and frames and frames[-1] == UNKNOWN):
                    frames.append(name)
            continue
        m = _HEADER.match(line)
        if m:
            flush()  # tolerate a missing blank line between samples
            header, frames = m, []
    flush()
    for tid, stacks in by_thread.items():
        # A thread's role is judged over all its samples: a sample caught in the kernel
        # alone still belongs to the tcpip thread whose other samples show tcpip_thread.
        role = thread_role([frame for stack in stacks for frame in stack.split(";")])
        for stack, w in stacks.items():
            folded[f"{role} [{tid}];{stack}"] += w
    return dict(sorted(folded.items()))


def read_perf_script(path: str | os.PathLike, **kwargs) -> dict[str, int]:
    """`fold_perf_script` over a file; keyword arguments are passed through."""
    with open(path, encoding="utf-8", errors="replace") as f:
        return fold_perf_script(f, **kwargs)


def format_folded(folded: Mapping[str, float]) -> str:
    """Folded stacks as text, one "stack count" per line, heaviest first."""
    items = sorted(folded.items(), key=lambda kv: (-kv[1], kv[0]))
    return "".join(f"{stack} {_num(count)}\n" for stack, count in items)


def write_folded(folded: Mapping[str, float], path: str | os.PathLike) -> None:
    """Write folded stacks to `path` in the `format_folded` layout."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(format_folded(folded))


def parse_folded(text: str) -> dict[str, float]:
    """Inverse of `format_folded` (the count is after the *last* space)."""
    out: Counter[str] = Counter()
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        stack, _, count = line.rpartition(" ")
        if not stack:
            raise ValueError(f"not a folded-stack line: {line!r}")
        value = float(count)
        out[stack] += int(value) if value.is_integer() else value
    return dict(out)


def read_folded(path: str | os.PathLike) -> dict[str, float]:
    """Read a folded-stacks file (`parse_folded`)."""
    with open(path, encoding="utf-8") as f:
        return parse_folded(f.read())


def total_weight(folded: Mapping[str, float]) -> float:
    """Sum of the weights of all stacks (samples, or periods)."""
    return sum(folded.values())


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


@dataclass(frozen=True)
class SymbolShare:
    """One symbol's weight in a profile; `share` is in percent of all samples."""

    symbol: str
    weight: float
    share: float


@dataclass(frozen=True)
class SymbolDiff:
    """A symbol's share (percent) in profiles a and b; delta = a - b in points."""

    symbol: str
    share_a: float
    share_b: float
    delta: float


def _frames(stack: str, drop_root: bool) -> list[str]:
    frames = stack.split(";")
    if drop_root:
        frames = frames[1:] or [NO_FRAMES]
    return frames


def _self_weights(folded: Mapping[str, float], drop_root: bool) -> Counter[str]:
    out: Counter[str] = Counter()
    for stack, w in folded.items():
        out[_frames(stack, drop_root)[-1]] += w
    return out


def _inclusive_weights(folded: Mapping[str, float], drop_root: bool) -> Counter[str]:
    out: Counter[str] = Counter()
    for stack, w in folded.items():
        # A recursive function appears several times in one stack but the
        # sample is inside it only once.
        for name in set(_frames(stack, drop_root)):
            out[name] += w
    return out


def _ranked(weights: Counter[str], total: float, n: int | None) -> list[SymbolShare]:
    items = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))
    if n is not None:
        items = items[:n]
    return [SymbolShare(s, w, 100.0 * w / total if total else 0.0) for s, w in items]


def top_self(
    folded: Mapping[str, float], n: int | None = 20, *, drop_root: bool = False
) -> list[SymbolShare]:
    """Symbols ranked by self weight (samples whose leaf frame is the symbol).

    drop_root: ignore the root frame (set it when the stacks were folded with
    a root frame - include_comm=True or root="thread" - so that thread names do not rank as symbols).
    """
    return _ranked(_self_weights(folded, drop_root), total_weight(folded), n)


def top_inclusive(
    folded: Mapping[str, float], n: int | None = 20, *, drop_root: bool = False
) -> list[SymbolShare]:
    """Symbols ranked by inclusive ("children") weight: samples with the symbol
    anywhere on the stack, counted once per sample."""
    return _ranked(_inclusive_weights(folded, drop_root), total_weight(folded), n)


def diff(
    folded_a: Mapping[str, float],
    folded_b: Mapping[str, float],
    *,
    by: str = "self",
    drop_root: bool = False,
    min_share: float = 0.0,
) -> list[SymbolDiff]:
    """Compare two profiles symbol by symbol, in shares (percent of each
    profile's own total) so that runs of different length compare fairly.

    by:        "self" or "inclusive".
    min_share: drop symbols below this share (percent) in *both* profiles.
    Returns every symbol present in either profile, sorted by delta
    (share_a - share_b) descending - largest gains in `a` first, largest gains
    in `b` last - ties broken by name.
    """
    if by == "self":
        weigh = _self_weights
    elif by == "inclusive":
        weigh = _inclusive_weights
    else:
        raise ValueError(f"by must be 'self' or 'inclusive', not {by!r}")
    wa, wb = weigh(folded_a, drop_root), weigh(folded_b, drop_root)
    ta, tb = total_weight(folded_a), total_weight(folded_b)
    out = []
    for sym in set(wa) | set(wb):
        sa = 100.0 * wa.get(sym, 0) / ta if ta else 0.0
        sb = 100.0 * wb.get(sym, 0) / tb if tb else 0.0
        if sa < min_share and sb < min_share:
            continue
        out.append(SymbolDiff(sym, sa, sb, sa - sb))
    out.sort(key=lambda d: (-d.delta, d.symbol))
    return out
