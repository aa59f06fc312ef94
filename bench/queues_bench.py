"""Benchmark: one analysis worker end to end, and e-mail latency behind a burst.

Starts the workers as README "Workers and scaling" runs them, one per queue: an
analysis worker (prefork, one process) and a notifications worker (threads, 4), on
PostgreSQL, a Redis broker and an SMTP sink on loopback. It measures

- per analysis: wall time from claim to result (the row's started_at..completed_at),
  the worker's CPU time (all its processes, from /proc) and the PostgreSQL
  transactions and rows written (pg_stat_database deltas), for 12 MP phone JPEGs
  (4000x3000, q92) that the worker decodes, re-encodes without EXIF and analyses;
- a password-reset e-mail's latency (enqueue to SMTP DATA) with the queues idle and
  while the analysis queue holds the burst.

Run: .venv/bin/python bench/queues_bench.py [--analyses 40]
Needs PostgreSQL and Redis on 127.0.0.1: database BENCH_DATABASE
(skincare_queues_bench), broker BENCH_BROKER_URL (redis://127.0.0.1:6379/14), cache
BENCH_REDIS_URL (redis://127.0.0.1:6379/13).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import fresh_database  # noqa: E402

DATABASE = os.environ.get("BENCH_DATABASE", "skincare_queues_bench")
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DATABASE}"
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
RESULTS = ROOT / "bench" / "results"
TICKS = os.sysconf("SC_CLK_TCK")


def photo_12mp() -> bytes:
    """A 4000x3000 JPEG (q92) with the astronaut's head, as bench/engine_bench.py."""
    import cv2
    import numpy as np
    from PIL import Image
    from skimage import data

    head = np.ascontiguousarray(data.astronaut()[7:263, 97:353])
    canvas = np.full((3000, 4000, 3), 200, dtype=np.uint8)
    canvas[:, 500:3500] = cv2.resize(head, (3000, 3000), interpolation=cv2.INTER_CUBIC)
    out = io.BytesIO()
    Image.fromarray(canvas).save(out, format="JPEG", quality=92)
    return out.getvalue()


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU of every live process in a process group (from /proc)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[2] is pgrp; utime, stime, cutime, cstime are fields[11:15]
        if int(fields[2]) == pgid:
            total += sum(int(v) for v in fields[11:15])
    return total / TICKS


def pg_stats(cursor) -> dict[str, int]:
    cursor.execute(
        "SELECT xact_commit, tup_inserted, tup_updated, tup_deleted "
        "FROM pg_stat_database WHERE datname = current_database()"
    )
    keys = ("transactions", "rows_inserted", "rows_updated", "rows_deleted")
    return dict(zip(keys, cursor.fetchone(), strict=True))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--analyses", type=int, default=40)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="queues-bench-"))
    media = work / "media"
    media.mkdir()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "skincare.settings",
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "CELERY_BROKER_URL": BROKER_URL,
        "CACHE_KEY_PREFIX": "queues-bench",
        "MEDIA_ROOT": str(media),
        "LOG_LEVEL": "WARNING",
        "ANALYSIS_MAX_PER_DAY": "100000",
    }
    fresh_database(DATABASE, env)  # a fresh database every run
    os.environ.update(env)
    import django

    django.setup()
    import redis
    from aiosmtpd.controller import Controller
    from django.core.files.base import ContentFile
    from django.db import connection

    from accounts.models import User
    from accounts.tasks import send_password_reset_task
    from analysis.models import Analysis
    from analysis.tasks import run_analysis_task
    from skincare.tasks import enqueue
    from skincare.testing import CeleryWorker, free_port

    class Sink:
        def __init__(self):
            self.arrivals: list[float] = []

        async def handle_DATA(self, server, session, envelope):
            self.arrivals.append(time.monotonic())
            return "250 Message accepted"

    sink = Sink()
    smtp = Controller(sink, hostname="127.0.0.1", port=free_port())
    smtp.start()
    env["EMAIL_URL"] = f"smtp://127.0.0.1:{smtp.port}"
    broker = redis.Redis.from_url(BROKER_URL)
    broker.flushdb()
    user = User.objects.create_user(
        email="queues-bench@example.com", password="queues-Bench-pass-7"
    )
    photo = photo_12mp()
    raw_field = Analysis._meta.get_field("raw_upload")
    ids = []
    for _ in range(args.analyses):  # as the API stores an upload: raw file, pending
        name = raw_field.storage.save(
            raw_field.generate_filename(None, "upload"), ContentFile(photo)
        )
        ids.append(str(Analysis.objects.create(user=user, raw_upload=name).pk))

    workers = [
        CeleryWorker(
            env, work / "analysis.log", queues="analysis", pool="prefork"
        ).start(),
        CeleryWorker(
            env,
            work / "mail.log",
            queues="notifications,default",
            pool="threads",
            concurrency=4,
        ).start(),
    ]
    for worker in workers:
        worker.wait_ready(120)

    def reset_latency_ms() -> float:
        before = len(sink.arrivals)
        sent = time.monotonic()
        enqueue(send_password_reset_task, user.email)
        deadline = sent + 60
        while len(sink.arrivals) == before:
            if time.monotonic() > deadline:
                raise RuntimeError("reset e-mail did not arrive in 60 s")
            time.sleep(0.005)
        return (sink.arrivals[before] - sent) * 1000

    try:
        idle = []
        with connection.cursor() as cursor:
            stats_0 = pg_stats(cursor)
        for _ in range(5):
            idle.append(reset_latency_ms())
        with connection.cursor() as cursor:
            stats_1 = pg_stats(cursor)
        per_email = {k: (stats_1[k] - stats_0[k]) / 5 for k in stats_0}

        cpu_0 = group_cpu_seconds(workers[0].process.pid)
        started = time.monotonic()
        for analysis_id in ids:
            enqueue(run_analysis_task, analysis_id)
        busy, queued_at_send = [], []
        for _ in range(5):
            time.sleep(1.0)
            queued_at_send.append(broker.llen("analysis"))
            busy.append(reset_latency_ms())
        deadline = time.monotonic() + 60 + 10 * args.analyses
        polls = 0  # each is one read-only transaction, taken off the counts below
        while Analysis.objects.filter(
            status__in=[Analysis.Status.PENDING, Analysis.Status.PROCESSING]
        ).exists():
            polls += 1
            if time.monotonic() > deadline:
                raise RuntimeError("analyses did not finish")
            time.sleep(0.5)
        polls += 1
        elapsed = time.monotonic() - started
        cpu = group_cpu_seconds(workers[0].process.pid) - cpu_0
        with connection.cursor() as cursor:
            stats_2 = pg_stats(cursor)
        rows = list(
            Analysis.objects.filter(pk__in=ids).values_list(
                "status", "started_at", "completed_at"
            )
        )
    finally:
        for worker in workers:
            worker.stop()
        smtp.stop()
        broker.flushdb()
        shutil.rmtree(work, ignore_errors=True)

    statuses = {s: sum(1 for r in rows if r[0] == s) for s in {r[0] for r in rows}}
    service_ms = sorted(
        (done - start).total_seconds() * 1000 for _, start, done in rows if done
    )
    n = len(ids)
    per_analysis = {
        k: (stats_2[k] - stats_1[k] - 5 * per_email[k]) / n for k in stats_0
    }
    per_analysis["transactions"] -= polls / n
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "load_average": os.getloadavg(),
        "analyses": n,
        "statuses": statuses,
        "analysis_service_ms_median": statistics.median(service_ms),
        "analysis_service_ms_p90": service_ms[int(0.9 * (len(service_ms) - 1))],
        "analysis_wall_s": elapsed,
        "analyses_per_s": n / elapsed,
        "worker_cpu_ms_per_analysis": cpu * 1000 / n,
        "pg_per_analysis": per_analysis,
        "pg_per_reset_email": per_email,
        "reset_email_ms_idle": idle,
        "reset_email_ms_behind_burst": busy,
        "analysis_queue_length_at_each_reset": queued_at_send,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "queues.json").write_text(json.dumps(result, indent=2) + "\n")
    idle_med, busy_med = statistics.median(idle), statistics.median(busy)
    lines = [
        "# Queues: one analysis worker, and e-mail behind a burst "
        "(bench/queues_bench.py)",
        "",
        f"Date {result['date']}, nproc {result['nproc']}, load average "
        f"{', '.join(f'{x:.1f}' for x in result['load_average'])} (shared machine). "
        f"{n} analyses of a 12 MP JPEG (4000x3000, q92) on one prefork analysis "
        "worker process; 4-thread notifications worker; PostgreSQL, Redis broker "
        "and SMTP sink on loopback.",
        "",
        "| per analysis | value |",
        "|---|---:|",
        f"| claim to result, median (p90) | {result['analysis_service_ms_median']:.0f}"
        f" ms ({result['analysis_service_ms_p90']:.0f} ms) |",
        f"| worker CPU (all its processes) | {result['worker_cpu_ms_per_analysis']:.0f}"
        " ms |",
        f"| throughput of one worker process | {result['analyses_per_s']:.2f}/s "
        f"({3600 * result['analyses_per_s']:.0f}/hour) |",
        f"| PostgreSQL transactions | {per_analysis['transactions']:.1f} |",
        f"| rows inserted / updated | {per_analysis['rows_inserted']:.1f} / "
        f"{per_analysis['rows_updated']:.1f} |",
        "",
        "| password-reset e-mail, enqueue to SMTP | median ms | max ms |",
        "|---|---:|---:|",
        f"| queues idle | {idle_med:.0f} | {max(idle):.0f} |",
        f"| behind the burst (analysis queue length {min(queued_at_send)}-"
        f"{max(queued_at_send)}) | {busy_med:.0f} | {max(busy):.0f} |",
        "",
        f"Behind the burst / idle: {busy_med / idle_med:.2f}x. Statuses: {statuses}.",
    ]
    text = "\n".join(lines) + "\n"
    (RESULTS / "queues.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
