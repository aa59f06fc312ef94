"""Run the benchmark suite and write bench/results/latest.md and latest.json.

    engine_bench   engine vs plain full-resolution JPEG decode, per 12 MP photo
    slots_bench    free_slots over 31 days with 500 bookings vs a naive scan
    api_bench      DRF list endpoints vs bare Django views on one gunicorn
    query_counts   SQL queries per list request at 5 and 50 rows
    upload_memory  peak RSS of web request and worker for 48 MP JPEG/PNG16/HEIC

Run from the repository root: ``make bench`` or ``.venv/bin/python bench/run_all.py
[--api-seconds 24] [--skip engine,slots,api,queries,uploads]``. PostgreSQL and Redis on
127.0.0.1 (own database skincare_bench, Redis DB 7; query_counts makes and drops
test_skincare_querycounts).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

from common import machine  # noqa: E402


def run_engine() -> dict:
    import engine_bench as eb

    with tempfile.TemporaryDirectory() as tmp:
        photo = Path(tmp) / "12mp.jpg"
        subprocess.run([sys.executable, eb.__file__, "--make", str(photo)], check=True)
        size_mb = photo.stat().st_size / 1e6
        decode = eb.spawn("decode", photo)
        engine = eb.spawn("engine", photo)
        through = eb.spawn("throughput", photo)
    return {
        "photo": f"4000x3000 JPEG q92, {size_mb:.1f} MB",
        "photos_in_throughput": eb.PHOTOS,
        "decode": decode,
        "engine": engine,
        "throughput": through,
        "engine_over_decode_warm": engine["median_ms"] / decode["median_ms"],
        "engine_over_decode_first": engine["first_ms"] / decode["median_ms"],
    }


def run_slots(runs: int = 30) -> dict:
    import slots_bench as sb

    arguments = sb.scenario()
    fast = sb.free_slots(**arguments)
    if fast != sb.naive_free_slots(**arguments):
        raise RuntimeError("slots: implementations disagree")
    fast_s = sb.median_seconds(lambda: sb.free_slots(**arguments), runs)
    naive_s = sb.median_seconds(
        lambda: sb.naive_free_slots(**arguments), max(3, runs // 5)
    )
    single = {k: v for k, v in arguments.items() if not k.startswith("window")}
    middle = fast[len(fast) // 2]
    check_s = sb.median_seconds(lambda: sb.is_free_slot(start=middle, **single), runs)
    return {
        "window_days": sb.MAX_WINDOW_DAYS,
        "bookings": sb.BOOKINGS,
        "free_slots": len(fast),
        "free_slots_ms": fast_s * 1e3,
        "naive_ms": naive_s * 1e3,
        "speedup": naive_s / fast_s,
        "is_free_slot_us": check_s * 1e6,
        "runs": runs,
    }


def run_script(name: str, *extra: str) -> dict | list:
    out = RESULTS / f"{name}.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH / f"{name}.py"), "--json", str(out), *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    sys.stderr.write(proc.stderr[-4000:] if proc.returncode not in (0, 1) else "")
    if not out.exists() or out.stat().st_mtime < time.time() - 900:
        raise RuntimeError(f"{name} failed:\n{proc.stdout}\n{proc.stderr[-4000:]}")
    return json.loads(out.read_text())


def markdown(report: dict) -> str:
    m = report["machine"]
    lines = [
        "# Benchmarks (bench/run_all.py, `make bench`)",
        "",
        f"Date {m['date']}, `uname -m` {m['uname_m']}, nproc {m['nproc']}, "
        f"Python {m['python']}. Figures from one run on a shared machine; the API "
        "load generator runs on the same CPUs as gunicorn, PostgreSQL and Redis.",
    ]
    if "engine" in report:
        e = report["engine"]
        lines += [
            "",
            f"## Skin engine vs plain JPEG decode ({e['photo']})",
            "",
            "| per photo | first ms | median ms | peak RSS MB |",
            "|---|---:|---:|---:|",
        ]
        for label, row in (("full-res decode (Pillow)", e["decode"]),
                           ("engine analyse_photo", e["engine"])):  # fmt: skip
            lines.append(
                f"| {label} | {row['first_ms']:.1f} | {row['median_ms']:.1f} | "
                f"{row['peak_rss_mb']:.0f} |"
            )
        lines += [
            "",
            f"Engine / decode: **{e['engine_over_decode_warm']:.2f}x** warm, "
            f"{e['engine_over_decode_first']:.2f}x first call (target <= 2x); engine "
            f"peak RSS {e['engine']['peak_rss_mb']:.0f} MB (target < 300 MB); "
            f"throughput {e['throughput']['per_second']:.1f} photos/s in one process "
            f"over {e['photos_in_throughput']} photos. Engine status: "
            f"{e['engine']['status']}.",
        ]
    if "slots" in report:
        s = report["slots"]
        lines += [
            "",
            f"## Free slots: {s['window_days']} days, {s['bookings']} bookings "
            f"({s['free_slots']} free slots)",
            "",
            "| | median |",
            "|---|---:|",
            f"| `free_slots` | {s['free_slots_ms']:.2f} ms |",
            f"| naive grid x bookings scan | {s['naive_ms']:.2f} ms |",
            f"| speed-up | **{s['speedup']:.1f}x** |",
            f"| `is_free_slot` (one start) | {s['is_free_slot_us']:.1f} us |",
        ]
    if "api" in report:
        import api_bench

        a = report["api"]
        lines += [
            "",
            "## DRF list endpoints vs bare Django views (one gunicorn)",
            "",
            f"gunicorn {a['workers']} workers x {a['threads']} threads (repo "
            f"config), DEBUG off, {a['clients']} keep-alive clients, "
            f"{a['seconds_per_url']:.0f} s per URL in {a['rounds']} interleaved "
            f"rounds; {a['data']}. Same queries, JWT check and JSON body on both "
            "sides (checked equal), the same per-user throttle counter and "
            "paginator queries; the bare views skip DRF's negotiation, filter "
            "and serializer classes. CPU is "
            "gunicorn's own (workers + master) per request, which co-tenant load "
            "disturbs less than req/s.",
            "",
            api_bench.markdown(a),
        ]
    if "queries" in report:
        import query_counts

        lines += [
            "",
            "## SQL queries per list request (first page of N rows, cache cold)",
            "",
            query_counts.markdown(report["queries"]),
        ]
    if "uploads" in report:
        import upload_memory

        lines += [
            "",
            "## 48 MP uploads: peak memory of the web request and the worker",
            "",
            upload_memory.markdown(report["uploads"]),
        ]
    lines += [
        "",
        "Load test and fault drills: [load.md](load.md), [drills.md](drills.md).",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api-seconds", type=float, default=24)
    parser.add_argument("--api-rounds", type=int, default=8)
    parser.add_argument("--skip", default="", help="comma-separated: engine,slots,...")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    RESULTS.mkdir(parents=True, exist_ok=True)
    report: dict = {"machine": machine()}
    steps = {
        "engine": run_engine,
        "slots": run_slots,
        "api": lambda: run_script(
            "api_bench",
            "--seconds",
            str(args.api_seconds),
            "--rounds",
            str(args.api_rounds),
        ),
        "queries": lambda: run_script("query_counts"),
        "uploads": lambda: run_script("upload_memory"),
    }
    for name, step in steps.items():
        if name in skip:
            continue
        started = time.monotonic()
        print(f"== {name} ...", flush=True)
        report[name] = step()
        print(f"   done in {time.monotonic() - started:.0f} s", flush=True)
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2, default=str))
    text = markdown(report)
    (RESULTS / "latest.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
