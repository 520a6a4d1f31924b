"""Bulk rates of the event store, each next to what raw PostgreSQL does with the same rows:
scenario 1 + 2 (raw COPY and engine append) and 3 (projection rebuild)."""

from __future__ import annotations

import math
import time

import psycopg
from bench_harness import TASKS, Context
from bench_histories import EVENTS_PER_RUN, fill, operation, run_batches, views_position


def scenario_append(ctx: Context) -> None:
    from ledgerflow.engine.infrastructure.store import Ledger

    url = ctx.dbs.fresh("append")
    n = ctx.sizes.append_events
    ledger = Ledger(url)
    raw = psycopg.connect(url)
    try:
        with raw.transaction():
            raw.execute("CREATE SEQUENCE scratch_events_seq")
            raw.execute("CREATE TABLE scratch_events (LIKE ledgerflow_events INCLUDING INDEXES)")
            raw.execute("ALTER TABLE scratch_events ALTER notification_id "
                        "SET DEFAULT nextval('scratch_events_seq')")
        op = operation("bench append")
        copy_s = append_s = 0.0
        rows = payload = 0
        first = True
        for batch in run_batches(op, "bench_append", n):
            aggs = ([op.started()] if first else []) + batch
            first = False
            stored = [ledger.mapper.to_stored_event(e) for a in aggs for e in a.pending_events]
            rows += len(stored)
            payload += sum(len(s.state) for s in stored)
            t0 = time.perf_counter()
            with raw.transaction(), raw.cursor() as curs, curs.copy(
                "COPY scratch_events (originator_id, originator_version, topic, state) "
                "FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["uuid", "int8", "text", "bytea"])
                for s in stored:
                    copy.write_row((s.originator_id, s.originator_version, s.topic, s.state))
            t1 = time.perf_counter()
            ledger.append(*aggs)
            append_s += time.perf_counter() - t1
            copy_s += t1 - t0
        stored_rows = raw.execute("SELECT count(*) FROM ledgerflow_events").fetchone()[0]
        if stored_rows != rows:
            raise RuntimeError(f"engine stored {stored_rows} events, expected {rows}")
    finally:
        raw.close()
        ledger.close()
    copy_rate = rows / copy_s
    append_rate = rows / append_s
    ratio = append_rate / copy_rate
    ref = (f"raw COPY {copy_rate:,.0f} rows/s ({rows:,} rows, "
           f"{payload / rows:.0f} B/row, batches of 10k)")
    ctx.report.add("1 raw COPY", "raw_copy_rows_per_s", copy_rate, "rows/s", "reference", None,
                   f"{rows:,} rows in {copy_s:.2f} s, binary COPY to a scratch events table")
    ctx.report.add("2 engine append", "append_rows_per_s", append_rate, "rows/s",
                   ">= 30% of raw COPY", ratio >= 0.30, ref)
    ctx.report.add("2 engine append", "append_vs_copy_pct", ratio * 100, "%", ">= 30 %",
                   ratio >= 0.30, ref)



def scenario_rebuild(ctx: Context) -> None:
    from ledgerflow.engine.infrastructure.store import Ledger
    from ledgerflow.projections.projector import ViewProjector

    url = ctx.dbs.fresh("rebuild")
    events, fill_s = fill(url, "bench_rebuild", ctx.sizes.rebuild_events)
    ctx.report.info["rebuild_fill"] = f"{events:,} events appended in {fill_s:.1f} s"
    with psycopg.connect(url) as conn:  # plain tuples: the cheapest way to get the rows
        t0 = time.perf_counter()
        read = len(conn.execute("SELECT notification_id, originator_id, originator_version, "
                                "topic, state FROM ledgerflow_events ORDER BY notification_id"
                                ).fetchall())
        read_s = time.perf_counter() - t0
    ledger = Ledger(url)
    try:
        t0 = time.perf_counter()
        applied = ViewProjector(ledger).rebuild()
        rebuild_s = time.perf_counter() - t0
    finally:
        ledger.close()
    if applied != events or read != events:
        raise RuntimeError(f"rebuild applied {applied}, read {read}, expected {events}")
    pos, top = views_position(url)
    with psycopg.connect(url) as conn:
        tis = conn.execute("SELECT count(*) FROM task_instance").fetchone()[0]
    runs = math.ceil(ctx.sizes.rebuild_events / EVENTS_PER_RUN)
    if pos != top or tis != runs * len(TASKS):
        raise RuntimeError(f"views after rebuild: position {pos}/{top}, {tis} task instances")
    rate = events / rebuild_s
    ref = f"raw read {events / read_s:,.0f} rows/s ({read_s:.2f} s)"
    ctx.report.add("3 projection rebuild", "rebuild_events_per_s", rate, "events/s",
                   ">= 100,000 events/s", rate >= 100_000,
                   f"{events:,} events in {rebuild_s:.2f} s; {ref}")
    ctx.report.add("3 projection rebuild", "rebuild_vs_raw_read", rebuild_s / read_s, "x",
                   "ratio (info)", None, ref)
    _verify(ctx, url, events, rebuild_s)


def _verify(ctx: Context, url: str, events: int, rebuild_s: float) -> None:
    """`audit verify` over the rebuilt store: the hash chain, then the views against a fresh fold."""
    from ledgerflow.engine.audit.verify import verify_store
    from ledgerflow.engine.infrastructure.store import Ledger
    from ledgerflow.projections.view_check import check_views

    ledger = Ledger(url)
    try:
        t0 = time.perf_counter()
        chain = verify_store(ledger)
        chain_s = time.perf_counter() - t0
        check = check_views(ledger)
        views_s = time.perf_counter() - t0 - chain_s
    finally:
        ledger.close()
    if not chain.intact or not check.intact:
        raise RuntimeError(f"audit verify after rebuild: {chain.problem} {check.lines()}")
    rows = sum(check.rows.values())
    ctx.report.add("3 projection rebuild", "verify_chain_s", chain_s, "s", "info", None,
                   f"{events:,} events, {events / chain_s:,.0f} events/s")
    ctx.report.add("3 projection rebuild", "verify_views_vs_rebuild", views_s / rebuild_s, "x",
                   "<= 1.5 x rebuild", views_s <= 1.5 * rebuild_s,
                   f"views check {views_s:.2f} s ({rows:,} view rows) vs rebuild {rebuild_s:.2f} s")

