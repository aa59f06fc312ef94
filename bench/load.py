"""Mixed-workload load test of the API on gunicorn in production mode (`make load`).

Seeds its own PostgreSQL database (default skincare_load) through the ORM and the
test factories, starts gunicorn with the repo's gunicorn.conf.py (DEBUG off, generated
secret key, no SSL redirect on loopback, throttles relaxed via THROTTLE_*), then runs
sign-in, routines list, product search, notifications feed, slot search and booking at
each concurrency level for a bounded time. Booking 409s (slot taken) are expected and
counted apart from errors (5xx, connection errors, unexpected statuses).

Writes bench/results/load.json and bench/results/load.md.

    .venv/bin/python bench/load.py [--levels 1,8,16,32,64] [--seconds 15]
        [--patients 200] [--port 8801] [--db skincare_load]
GUNICORN_WORKERS / GUNICORN_THREADS / DATABASE_CONN_MAX_AGE pass through to gunicorn.
"""

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import common


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--levels", default="1,8,16,32,64")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--dermatologists", type=int, default=5)
    parser.add_argument("--port", type=int, default=8801)
    parser.add_argument("--db", default="skincare_load")
    parser.add_argument("--out", default="load")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    assert all(0 < c <= 256 for c in levels)
    assert 0 < args.seconds <= 120
    assert 8800 <= args.port <= 8899

    database_url = f"postgres://postgres@127.0.0.1:5432/{args.db}"
    env = common.production_env(
        database_url=database_url,
        redis_url="redis://127.0.0.1:6379/5",
        broker_url="redis://127.0.0.1:6379/6",
    )
    common.ensure_database(args.db)
    common.migrate(env)
    common.collectstatic(env)
    os.environ.update({k: env[k] for k in env if k not in ("PATH",)})
    import django

    django.setup()
    t = time.monotonic()
    data = common.seed(patients=args.patients, dermatologists=args.dermatologists)
    print(
        f"seeded {args.patients} patients, {args.dermatologists} dermatologists "
        f"in {time.monotonic() - t:.1f}s",
        flush=True,
    )
    # The broker DB only collects booking e-mails nobody consumes here.
    common.sh(["redis-cli", "-n", "6", "FLUSHDB"], stdout=common.subprocess.DEVNULL)

    gunicorn_settings = {
        k: os.environ[k]
        for k in (
            "GUNICORN_WORKERS",
            "GUNICORN_THREADS",
            "GUNICORN_MAX_REQUESTS",
            "DATABASE_CONN_MAX_AGE",
        )
        if k in os.environ
    }
    server = common.Gunicorn(
        env, args.port, common.RESULTS / f"{args.out}-gunicorn.log", **gunicorn_settings
    )
    server.start()
    results = []
    try:
        # Warm-up: every worker imports, connects and fills the catalogue cache.
        common.run_workload(
            port=args.port,
            emails=data["emails"],
            dermatologists=data["dermatologists"],
            clients=8,
            seconds=args.warmup,
            seed=99,
        )
        for clients in levels:
            common.clear_bookings()
            cpu0 = resource.getrusage(resource.RUSAGE_SELF)
            stats, elapsed = common.run_workload(
                port=args.port,
                emails=data["emails"],
                dermatologists=data["dermatologists"],
                clients=clients,
                seconds=args.seconds,
                seed=clients,
            )
            cpu1 = resource.getrusage(resource.RUSAGE_SELF)
            row = {"clients": clients, **common.summarise(stats, elapsed)}
            row["loadgen_cpu_s"] = round(
                (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime), 1
            )
            results.append(row)
            print(
                f"{clients:>3} clients: {row['rps']:>7} req/s  p50 {row['p50_ms']} ms"
                f"  p99 {row['p99_ms']} ms  errors {row['errors']}"
                f"  409 {row['booking_conflicts_409']}"
                f"  stale-retries {row['stale_keepalive_retries']}",
                flush=True,
            )
    finally:
        server.stop()

    peak = max(r["rps"] for r in results)
    top = results[-1]
    targets = {
        f"zero errors at {top['clients']} clients": top["errors"] == 0,
        f"throughput at {top['clients']} clients >= 90% of peak "
        f"({top['rps']} / {peak} = {top['rps'] / peak:.0%})": top["rps"] >= 0.9 * peak,
        f"p99 <= 3x p50 at {top['clients']} clients ({top['p99_ms']} / "
        f"{top['p50_ms']} = {top['p99_ms'] / top['p50_ms']:.1f}x)": top["p99_ms"]
        <= 3 * top["p50_ms"],
    }
    report = {
        "machine": common.machine(),
        "config": {
            "seconds_per_level": args.seconds,
            "patients": args.patients,
            "dermatologists": args.dermatologists,
            "mix_weights": common.WEIGHTS,
            "gunicorn": {
                "workers": os.environ.get("GUNICORN_WORKERS", "3 (conf default)"),
                "threads": os.environ.get("GUNICORN_THREADS", "2 (conf default)"),
                "worker_class": "gthread",
            },
            "database": "PostgreSQL 15 127.0.0.1:5432/" + args.db,
            "cache": "redis://127.0.0.1:6379/5",
            "broker": "redis://127.0.0.1:6379/6",
        },
        "levels": results,
        "targets": targets,
    }
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    (common.RESULTS / f"{args.out}.json").write_text(json.dumps(report, indent=2))
    (common.RESULTS / f"{args.out}.md").write_text(markdown(report))
    for name, ok in targets.items():
        print(("PASS " if ok else "MISS ") + name)
    return 0 if all(targets.values()) else 1


def markdown(report: dict) -> str:
    m, c = report["machine"], report["config"]
    lines = [
        "# API load test (bench/load.py, `make load`)",
        "",
        f"Date {m['date']}, `uname -m` {m['uname_m']}, nproc {m['nproc']}, "
        f"Python {m['python']}. Load generator on the same machine (it shares the "
        "CPUs with gunicorn, PostgreSQL and Redis; its CPU time is in the table).",
        "",
        f"gunicorn gthread, workers {c['gunicorn']['workers']}, threads "
        f"{c['gunicorn']['threads']}; DEBUG off; {c['patients']} patients, "
        f"{c['dermatologists']} dermatologists; {c['seconds_per_level']} s per level. "
        f"Mix (weights): {', '.join(f'{k} {v}' for k, v in c['mix_weights'].items())}.",
        "",
        "| clients | req/s | p50 ms | p99 ms | p99/p50 | errors | booking 409 | "
        "stale keep-alive retries | loadgen CPU s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["levels"]:
        lines.append(
            f"| {r['clients']} | {r['rps']} | {r['p50_ms']} | {r['p99_ms']} | "
            f"{r['p99_ms'] / r['p50_ms']:.1f} | {r['errors']} | "
            f"{r['booking_conflicts_409']} | {r['stale_keepalive_retries']} | "
            f"{r['loadgen_cpu_s']} |"
        )
    top = report["levels"][-1]
    lines += [
        "",
        f"Per endpoint at {top['clients']} clients:",
        "",
        "| action | n | p50 ms | p99 ms | statuses |",
        "|---|---:|---:|---:|---|",
    ]
    for action, a in top["per_action"].items():
        lines.append(
            f"| {action} | {a['n']} | {a['p50_ms']} | {a['p99_ms']} | {a['statuses']} |"
        )
    lines += ["", "Targets:", ""]
    lines += [
        f"- {'PASS' if ok else 'MISS'}: {name}"
        for name, ok in report["targets"].items()
    ]
    errs = [r for r in report["levels"] if r["errors"]]
    if errs:
        lines += ["", "Error samples:", ""]
        for r in errs:
            lines += [f"- {r['clients']} clients: {r['error_kinds']}"]
            lines += [f"  - `{s}`" for s in r["error_samples"][:5]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
