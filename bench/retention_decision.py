"""How long the Visual Backup takes to decide what to delete among 100 000 indexed segments.

Measurements, each against a reference in the same run:

- ``decide``: camnet's one-pass decision over segments already read (oldest first),
  against a naive loop that, for every deletion, searches the oldest deletable segment
  and recomputes the free space and recorded time from scratch;
- ``steady read+decide``: the full production path at every split: the segments with
  their tag protection read from the service's in-memory copy of the index
  (``BackupIndex``, kept in step with every committed change), then the decision; and
  the capacity variables' durations (every second) from the same copy;
- ``startup load+decide``: rebuilding that copy from a real SQLite index (driver
  tuples, once at start) and deciding, against the previous path (SQLAlchemy Core rows
  on every decision).

Usage: ``python bench/retention_decision.py [--segments 100000]``; goal: ≤ 100 ms.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import Connection, insert, select

from camnet.recording import retention
from camnet.recording.backup_index import BackupIndex
from camnet.store import tables
from camnet.store.database import Database


def build(count: int) -> tuple[list[retention.Segment], list[float]]:
    rng = random.Random(5)
    segments, tag_times = [], []
    for i in range(count):
        start = i * 300.0
        if rng.random() < 0.01:
            tag_times.append(start + 10)
        segments.append(retention.Segment(i + 1, start, start + 300, 30_000_000))
    tag_times.sort()
    return [
        retention.Segment(
            s.id, s.start, s.end, s.size, retention.is_tagged(s.start, s.end, tag_times)
        )
        for s in segments
    ], tag_times


def core_segments(connection: Connection, storage: str) -> list[retention.Segment]:
    """The reference read: SQLAlchemy Core rows, as the service did before the copy."""
    r, t = tables.recordings, tables.tags
    rows = connection.execute(
        select(r.c.id, r.c.start, r.c.end, r.c.size)
        .where(r.c.storage == storage, r.c.kind == "backup", r.c.open.is_(False))
        .order_by(r.c.start, r.c.id)
    ).all()
    times = sorted(time for (time,) in connection.execute(select(t.c.time)).all())
    return [
        retention.Segment(
            row.id, row.start, row.end, row.size, retention.is_tagged(row.start, row.end, times)
        )
        for row in rows
    ]


def naive(segments: list[retention.Segment], free: float, policy: retention.Policy) -> list[int]:
    remaining = list(segments)
    deleted: list[int] = []
    while True:
        used_free = free + sum(s.size for s in segments if s.id in set(deleted))
        recorded = sum(s.duration for s in remaining)
        short = used_free / policy.bytes_per_second < policy.reserve_seconds
        over = not policy.use_complete_space and recorded > policy.max_hours * 3600
        candidates = [s for s in remaining if not s.tagged]
        if not (short or over) or not candidates:
            return deleted
        oldest = min(candidates, key=lambda s: s.start)
        remaining.remove(oldest)
        deleted.append(oldest.id)


def timed(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--segments", type=int, default=100_000)
    args = parser.parse_args()
    segments, tag_times = build(args.segments)
    # 10 days kept at most: the decision deletes ~1 400 old segments.
    policy = retention.Policy(100_000.0, use_complete_space=False, max_hours=24 * 10)
    result = retention.decide(segments, 10**12, policy)
    camnet_s = timed(lambda: retention.decide(segments, 10**12, policy), 5)
    small = segments[:1000]
    small_policy = retention.Policy(100_000.0, use_complete_space=False, max_hours=60)
    assert list(retention.decide(small, 10**12, small_policy).delete) == naive(
        small, 10**12, small_policy
    )
    naive_small = timed(lambda: naive(small, 10**12, small_policy), 1)
    camnet_small = timed(lambda: retention.decide(small, 10**12, small_policy), 5)
    with tempfile.TemporaryDirectory() as directory:
        database = Database.open_sqlite(Path(directory) / "bench.sqlite3")
        with database.engine.begin() as connection:
            rows = [
                dict(kind="backup", storage="s", file=f"f{s.id}.mkv", start=s.start, end=s.end,
                     size=s.size, frames=1, width=1280, height=720, fps=15, quality=75,
                     open=False, version=2)
                for s in segments
            ]  # fmt: skip
            connection.execute(insert(tables.recordings), rows)
            connection.execute(
                insert(tables.tags),
                [dict(time=t, title="", note="", created=t, version=1) for t in tag_times],
            )

        def load_and_decide() -> None:
            # Start-up path: read the whole index (driver tuples), then decide.
            memory = BackupIndex()
            with database.engine.connect() as connection:
                memory.load(connection)
            retention.decide(memory.segments("s"), 10**12, policy)

        def reference_read_and_decide() -> None:
            # The previous production path: SQLAlchemy Core rows, then decide.
            with database.engine.connect() as connection:
                retention.decide(core_segments(connection, "s"), 10**12, policy)

        memory = BackupIndex()
        with database.engine.connect() as connection:
            memory.load(connection)
        # Steady state: what the service does at every split and capacity refresh.
        steady_s = timed(lambda: retention.decide(memory.segments("s"), 10**12, policy), 5)
        durations_s = timed(lambda: memory.durations("s"), 5)
        load_s = timed(load_and_decide, 3)
        core_s = timed(reference_read_and_decide, 3)
        database.close()
    figures = {
        "segments": args.segments,
        "deleted": len(result.delete),
        "decide_ms": round(camnet_s * 1000, 2),
        "steady_read_and_decide_ms": round(steady_s * 1000, 1),
        "capacity_durations_ms": round(durations_s * 1000, 1),
        "startup_load_and_decide_ms": round(load_s * 1000, 1),
        "reference_core_rows_and_decide_ms": round(core_s * 1000, 1),
        "small_n": len(small),
        "small_decide_ms": round(camnet_small * 1000, 3),
        "small_naive_ms": round(naive_small * 1000, 1),
        "speedup_vs_naive_at_small_n": round(naive_small / camnet_small, 1),
        "goal_ms": 100,
    }
    for key, value in figures.items():
        print(f"{key:>28}: {value}")
    print("RESULT " + json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
