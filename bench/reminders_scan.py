"""Benchmark: how the routine-reminder cron run grows with the number of routines.

`send_routine_reminders` (cron, every 5 minutes) reads every routine with a reminder
time, with its steps and recent reminders and check-ins, and decides in Python which
are due. This seeds users with two routines of five steps each (reminder times spread
over the day) and times one dry run at two sizes: if the cost per routine stays flat,
a run costs time in proportion to all routines, not to the reminders due.

Run: .venv/bin/python bench/reminders_scan.py [--users 1000 4000]
Needs PostgreSQL on 127.0.0.1: database BENCH_DATABASE (skincare_reminders_bench).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from datetime import time as clock
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import fresh_database  # noqa: E402

DATABASE = os.environ.get("BENCH_DATABASE", "skincare_reminders_bench")
RESULTS = ROOT / "bench" / "results"


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def seed(users: int) -> int:
    """Users with an AM and a PM routine of 5 daily steps; returns routines made."""
    from accounts.models import User
    from routines.models import Routine, RoutineStep

    made = User.objects.bulk_create(
        User(email=f"reminders-{i}@example.com", password="!") for i in range(users)
    )
    routines = []
    for i, user in enumerate(made):
        for period, hour in (("am", 6 + i % 4), ("pm", 18 + i % 5)):
            routines.append(
                Routine(
                    user=user,
                    period=period,
                    name=period,
                    reminder_time=clock(hour, (7 * i) % 60),
                )
            )
    Routine.objects.bulk_create(routines, batch_size=2000)
    RoutineStep.objects.bulk_create(
        (
            RoutineStep(
                routine=routine,
                position=position,
                name=f"step {position}",
                step_kind="cleanser",
                active_from=date(2026, 1, 1),
            )
            for routine in routines
            for position in range(1, 6)
        ),
        batch_size=5000,
    )
    return len(routines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, nargs="+", default=[1000, 4000])
    args = parser.parse_args()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "skincare.settings",
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
        "LOG_LEVEL": "WARNING",
    }
    for name in ("REDIS_URL", "CELERY_BROKER_URL", "REDIS_SENTINELS"):
        env.pop(name, None)
    rows = []
    for users in args.users:
        fresh_database(DATABASE, env)  # a fresh database per size
        result = subprocess.run(
            [sys.executable, __file__, "--child", str(users)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        rows.append(json.loads(result.stdout.strip().splitlines()[-1]))
    subprocess.run(
        ["dropdb", "-h", "127.0.0.1", "-U", "postgres", DATABASE],
        check=False,
        capture_output=True,
    )
    lines = [
        "# Routine-reminder run vs routines (bench/reminders_scan.py)",
        "",
        f"Date {datetime.now(UTC).isoformat(timespec='seconds')}, nproc "
        f"{os.cpu_count()}, load average "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} (shared machine). "
        "`send_routine_reminders(dry_run=True)` at 12:00 UTC; 2 routines of 5 steps "
        "per user, reminder times spread over the day.",
        "",
        "| routines | due now | wall ms | CPU ms (command process) | queries "
        "| CPU ms per 1,000 routines |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['routines']} | {row['sent']} | {row['wall_ms']:.0f} "
            f"| {row['cpu_ms']:.0f} | {row['queries']} "
            f"| {1000 * row['cpu_ms'] / row['routines']:.0f} |"
        )
    if len(rows) >= 2:
        first, last = rows[0], rows[-1]
        lines += [
            "",
            f"{last['routines'] / first['routines']:.1f}x the routines: "
            f"{last['cpu_ms'] / first['cpu_ms']:.2f}x the CPU, "
            f"{last['wall_ms'] / first['wall_ms']:.2f}x the wall time.",
        ]
    text = "\n".join(lines) + "\n"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "reminders_scan.md").write_text(text)
    (RESULTS / "reminders_scan.json").write_text(json.dumps(rows, indent=2) + "\n")
    print(text)


def child(users: int) -> None:
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from routines.services import send_routine_reminders

    routines = seed(users)
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    send_routine_reminders(now=now, dry_run=True)  # warm: imports, caches
    cpu, wall = cpu_seconds(), time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        summary = send_routine_reminders(now=now, dry_run=True)
    wall = time.perf_counter() - wall
    cpu = cpu_seconds() - cpu
    print(
        json.dumps(
            {
                "routines": routines,
                "sent": summary.sent,
                "wall_ms": wall * 1000,
                "cpu_ms": cpu * 1000,
                "queries": len(queries),
            }
        )
    )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(int(sys.argv[2]))
    else:
        main()
