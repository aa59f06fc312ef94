"""Throughput of the DRF list endpoints against bare Django views, on one gunicorn.

One gunicorn (the repo's gunicorn.conf.py, production mode: DEBUG off, with
bench/settings.py, which adds the bare views of bench/urls.py) serves both sides of
three pairs:

    GET /api/v1/routines/       vs  /bench/routines/       (bench/routines_views.py)
        as a user with 5 routines x 6 steps, and as one with 20 routines x 8 steps
    GET /api/v1/notifications/  vs  /bench/notifications/
                                (bench/notifications_views.py), 30 notifications

Each pair answers the same JSON bytes (the project's orjson renderer) from the same
queries after the same JWT check and the same per-user rate-limit counter in Redis
(bench/bare.py; the bench checks the bodies are equal before it measures); the
difference is what DRF itself adds (request wrapping, content negotiation,
permission and throttle plumbing, pagination classes, response finalisation).
Routines carry their stored conflict warnings (computed when the routines are
written, see routines.services.refresh_warnings), written out as stored.

The six URLs are loaded by keep-alive client threads in interleaved rounds (A..F,
then F..A, ...) so that drift of the shared machine hits both sides of a pair alike.
Per round and URL the bench counts completed requests and gunicorn's process CPU
time (master and workers, from /proc); every figure is the median over the rounds,
printed with its range: the ratio DRF / bare in requests/s and in CPU ms per request
(target >= 0.90 for both), beside the absolute CPU ms per request of each side. The
feed comparison puts the DRF routines list for 20 x 8 beside the DRF feed, per round
(target: at most 2x the feed's CPU ms per request). The client shares the CPUs with
gunicorn, PostgreSQL and Redis.

``--profile`` instead runs N requests of each URL in this process (Django test client,
same settings) under cProfile and prints where the DRF side spends its time.

Run from the repository root (own database skincare_bench, Redis DB 7, flushed;
BENCH_DATABASE_URL / BENCH_REDIS_URL choose others):
    .venv/bin/python bench/api_bench.py [--seconds 48] [--rounds 16] [--clients 8]
        [--port 8901] [--json bench/results/api.json] [--profile 2000]
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import io
import json
import os
import pstats
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/skincare_bench"
REDIS_URL = "redis://127.0.0.1:6379/7"
PORTS = range(8900, 8951)
TARGET = 0.90
# GET routines/ for 20 x 8 steps costs at most this many times the feed, per request.
FEED_FACTOR = 2.0
# name -> (DRF path, bare path, bench user)
PAIRS = {
    "routines 5x6": ("/api/v1/routines/", "/bench/routines/", "small"),
    "routines 20x8": ("/api/v1/routines/", "/bench/routines/", "large"),
    "notifications": ("/api/v1/notifications/", "/bench/notifications/", "small"),
}
USERS = {"small": "api-bench@example.com", "large": "api-bench-20x8@example.com"}
# bench user -> (routines, steps each)
SHAPES = {"small": (5, 6), "large": (20, 8)}
# A routine's steps by catalogue category, in layering order; the last by period.
SLOTS = ("cleanser", "toner", "serum", "eye_cream", "moisturiser", "oil", "moisturiser")
LAST = {"am": "sunscreen", "pm": "oil", "weekly": "mask"}
SUNDAY = 1 << 6  # weekday bit mask: weekly routines run on Sundays


def routine_products(by_category: dict, period: str, index: int, size: int) -> list:
    """``size`` products of a plausible routine, varied with ``index``."""
    categories = [*SLOTS[: size - 1], LAST[period]]
    return [
        by_category[c][(index + k) % len(by_category[c])]
        for k, c in enumerate(categories)
    ]


def bench_env() -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-" + secrets.token_urlsafe(48),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SECURE_SSL_REDIRECT": "false",
        # Production mode refuses the console backend; nothing is sent in the bench.
        "EMAIL_URL": "smtp://127.0.0.1:1",
        "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", DATABASE_URL),
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", REDIS_URL),
        "CACHE_KEY_PREFIX": "bench-api",
        "JWT_ACCESS_MINUTES": "120",
        # The per-user throttle stays on (its Redis round trip is part of the cost)
        # but must not refuse.
        "THROTTLE_USER": os.environ.get("BENCH_THROTTLE_USER", "100000000/min"),
        "LOG_LEVEL": "WARNING",
        "GUNICORN_LOG_LEVEL": "warning",
        # No worker recycling while measuring: a worker's CPU time leaves /proc when
        # it exits and reaches the master's cutime only once reaped, which can move
        # it out of the round it was spent in.
        "GUNICORN_MAX_REQUESTS": "0",
    }


def ensure_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    out = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc",
         f"SELECT 1 FROM pg_database WHERE datname='{name}'"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    if "1" not in out:
        subprocess.run(
            ["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True
        )


def prepare() -> dict[str, str]:
    """Migrate; the bench users' routines (SHAPES), 30 notifications; their JWTs."""
    ensure_database(os.environ["DATABASE_URL"])
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        check=True,
    )
    import django

    django.setup()
    from datetime import UTC, date, datetime, timedelta

    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.models import User
    from notifications.models import Notification
    from routines import services
    from routines.layering import CATEGORY_STEP_KIND
    from routines.models import Product, Routine, RoutineStep

    now = datetime.now(UTC)
    by_category: dict[str, list] = {}
    for product in Product.objects.order_by("slug"):
        by_category.setdefault(product.category, []).append(product)
    if not {*SLOTS, *LAST.values()} <= by_category.keys():
        raise RuntimeError("the catalogue migration did not load every category")
    tokens = {}
    for key, email in USERS.items():
        user, _ = User.objects.get_or_create(
            email=email,
            defaults={"timezone": "Europe/Paris", "email_verified_at": now},
        )
        Routine.objects.filter(user=user).delete()
        Notification.objects.filter(recipient=user).delete()
        count, size = SHAPES[key]
        for r in range(count):
            period = ("am", "pm", "weekly")[r % 3]
            routine = Routine.objects.create(user=user, period=period, name=f"R{r}")
            RoutineStep.objects.bulk_create(
                RoutineStep(
                    routine=routine,
                    position=i + 1,
                    product=p,
                    name=p.name,
                    step_kind=CATEGORY_STEP_KIND[p.category],
                    weekdays=SUNDAY if period == "weekly" else None,
                    active_from=date(2024, 1, 1),
                )
                for i, p in enumerate(routine_products(by_category, period, r, size))
            )
        # Rows written past the services: store their warnings as a write would.
        services.refresh_warnings(user=user)
        tokens[key] = str(RefreshToken.for_user(user).access_token)
    Notification.objects.bulk_create(
        Notification(
            recipient=User.objects.get(email=USERS["small"]),
            kind="routine_reminder",
            title=f"Reminder {n}",
            body="Time for your evening routine: cleanser, serum, moisturiser.",
            data={"routine": f"R{n % 5}", "n": n},
            in_app=True,
            read_at=now - timedelta(minutes=n) if n % 3 else None,
        )
        for n in range(30)
    )
    from django.db import connections

    connections.close_all()
    return tokens


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 8900-8950")


def fetch(port: int, path: str, token: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers(token))
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


def wait_for(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/health/live/")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
        finally:
            conn.close()
    raise RuntimeError("gunicorn did not answer /health/live/")


TICK = os.sysconf("SC_CLK_TCK")


def _times(pid: int) -> list[int]:
    """utime, stime, cutime, cstime of a process, in clock ticks."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return [int(v) for v in stat[stat.rfind(")") + 2 :].split()[11:15]]


def gunicorn_cpu(master: int) -> float:
    """CPU seconds used so far by gunicorn: the master, its live workers and the
    workers it has reaped (max_requests recycles them; their time is in cutime)."""
    total = sum(_times(master))
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat[stat.rfind(")") + 2 :].split()[1]) == master:
            total += sum(_times(int(entry.name))[:2])
    return total / TICK


def load(port: int, path: str, token: str, seconds: float, clients: int) -> int:
    """Completed 200 responses in ``seconds`` with ``clients`` keep-alive threads."""
    hdrs = headers(token)
    counts = [0] * clients
    errors: list[str] = []
    stop = time.monotonic() + seconds

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.monotonic() < stop:
            try:
                conn.request("GET", path, headers=hdrs)
                response = conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()  # max_requests recycles workers: reconnect
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                errors.append(repr(exc))
                continue
            if response.status != 200 or b'"results"' not in body:
                errors.append(f"{response.status} {body[:200]!r}")
                return
            counts[index] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    hard = [e for e in errors if not e.startswith(("Remote", "Connection"))]
    if hard:
        raise RuntimeError(f"{path}: {hard[0]}")
    return sum(counts)


def check_same_bodies(port: int, tokens: dict[str, str]) -> dict[str, int]:
    """Each pair must answer equal JSON; returns the body sizes of the DRF side."""
    sizes = {}
    for name, (drf, bare, who) in PAIRS.items():
        token = tokens[who]
        (s1, b1), (s2, b2) = fetch(port, drf, token), fetch(port, bare, token)
        if s1 != 200 or s2 != 200:
            raise RuntimeError(f"{name}: status {s1} / {s2}: {b1[:200]!r} {b2[:200]!r}")
        j1, j2 = json.loads(b1), json.loads(b2)
        for body in (j1, j2):  # the links name their own path; compare the query
            for link in ("next", "previous"):
                body[link] = body[link] and body[link].split("?", 1)[-1]
        if j1 != j2:
            raise RuntimeError(f"{name}: DRF and bare bodies differ")
        if not j1["results"]:
            raise RuntimeError(f"{name}: empty results")
        sizes[name] = len(b1)
    return sizes


def measure(args) -> dict:
    os.environ.update(bench_env())
    # Before prepare(): the stored warnings are stamped with the catalogue version
    # kept in this Redis database.
    subprocess.run(
        ["redis-cli", "-u", os.environ["REDIS_URL"], "FLUSHDB"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    tokens = prepare()
    port = args.port or free_port()
    env = {
        **os.environ,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        # Avoid the wrong parent's interpreter: gunicorn from the same venv.
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
    }
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py"], cwd=ROOT, env=env
    )
    # (pair, side) -> the URL and the bench user's token
    runs = {
        (name, side): (path, tokens[who])
        for name, (drf, bare, who) in PAIRS.items()
        for side, path in (("drf", drf), ("bare", bare))
    }
    per_round = args.seconds / args.rounds
    done = {run: [] for run in runs}  # completed requests per round
    cpu = {run: [] for run in runs}  # gunicorn CPU seconds per round
    order = list(runs.items())
    try:
        wait_for(port)
        sizes = check_same_bodies(port, tokens)
        for url, token in runs.values():  # warm up workers, connections, imports
            load(port, url, token, args.warmup, args.clients)
        for index in range(args.rounds):
            # A, B, ..., F then F, ..., A: a drift of the shared machine over a
            # round pair hits both sides of a pair alike.
            for run, (url, token) in order if index % 2 == 0 else order[::-1]:
                before = gunicorn_cpu(server.pid)
                done[run].append(load(port, url, token, per_round, args.clients))
                cpu[run].append(gunicorn_cpu(server.pid) - before)
    finally:
        server.terminate()
        server.wait(timeout=40)

    def ms(run) -> list[float]:
        """CPU ms per request of ``run`` in each round."""
        return [c / n * 1e3 for c, n in zip(cpu[run], done[run], strict=True)]

    def spread(values: list[float], digits: int) -> dict:
        return {
            "median": round(statistics.median(values), digits),
            "min": round(min(values), digits),
            "max": round(max(values), digits),
        }

    results = {}
    for name in PAIRS:
        drf, bare = (name, "drf"), (name, "bare")
        rate_ratios = [d / b for d, b in zip(done[drf], done[bare], strict=True)]
        cpu_ratios = [b / d for d, b in zip(ms(drf), ms(bare), strict=True)]
        ratio = statistics.median(rate_ratios)
        cpu_ratio = statistics.median(cpu_ratios)
        results[name] = {
            "drf_path": runs[drf][0],
            "bare_path": runs[bare][0],
            "drf_rps": round(sum(done[drf]) / args.seconds, 1),
            "bare_rps": round(sum(done[bare]) / args.seconds, 1),
            # DRF / bare requests/s, median of the rounds, and its spread: mostly
            # how the machine's other tenants left CPU to gunicorn in each round
            "ratio": round(ratio, 3),
            "ratio_spread": spread(rate_ratios, 3),
            # gunicorn CPU ms per request, median of the rounds, and its spread
            "drf_cpu_ms": round(statistics.median(ms(drf)), 2),
            "bare_cpu_ms": round(statistics.median(ms(bare)), 2),
            "drf_cpu_ms_spread": spread(ms(drf), 2),
            "bare_cpu_ms_spread": spread(ms(bare), 2),
            # The DRF / bare ratio (target): bare / DRF CPU per request, i.e. DRF's
            # throughput relative to bare's on a CPU-bound server
            "cpu_ratio": round(cpu_ratio, 3),
            "cpu_ratio_spread": spread(cpu_ratios, 3),
            "body_bytes": sizes[name],
            "pass": cpu_ratio >= TARGET,
        }
    routines, feed = results["routines 20x8"], results["notifications"]
    factors = [
        r / f
        for r, f in zip(
            ms(("routines 20x8", "drf")), ms(("notifications", "drf")), strict=True
        )
    ]
    factor = statistics.median(factors)
    return {
        "workers": int(os.environ.get("GUNICORN_WORKERS", "3")),
        "threads": int(os.environ.get("GUNICORN_THREADS", "2")),
        "clients": args.clients,
        "seconds_per_url": args.seconds,
        "rounds": args.rounds,
        "target_ratio": TARGET,
        "data": "5 routines x 6 steps and 20 routines x 8 steps (am / pm / weekly "
        "in turn, weekly on Sundays; cleanser, toner, serum, eye cream, moisturiser, "
        "oil, moisturiser, then sunscreen / oil / mask, products varied per routine: "
        "404 stored conflict warnings for 20 x 8); 30 notifications (page of 20)",
        "results": results,
        "feed_comparison": {
            "routines_path": routines["drf_path"] + " (20x8)",
            "feed_path": feed["drf_path"],
            "routines_cpu_ms": routines["drf_cpu_ms"],
            "feed_cpu_ms": feed["drf_cpu_ms"],
            "cpu_factor": round(factor, 2),
            "cpu_factor_spread": spread(factors, 2),
            "routines_rps": routines["drf_rps"],
            "feed_rps": feed["drf_rps"],
            "rps_factor": round(feed["drf_rps"] / routines["drf_rps"], 2),
            "target_factor": FEED_FACTOR,
            "pass": factor <= FEED_FACTOR,
        },
    }


def profile(requests: int, top: int, sort: str = "tottime", only: str = "") -> None:
    """cProfile N requests per URL through the test client, same settings."""
    os.environ.update(bench_env())
    tokens = prepare()
    from django.test import Client

    for name, (drf, bare, who) in PAIRS.items():
        if only and name != only:
            continue
        client = Client(
            HTTP_AUTHORIZATION=f"Bearer {tokens[who]}", HTTP_ACCEPT="application/json"
        )
        for url in (drf, bare):
            for _ in range(50):
                assert client.get(url).status_code == 200
            profiler = cProfile.Profile()
            started = time.perf_counter()
            profiler.enable()
            for _ in range(requests):
                client.get(url)
            profiler.disable()
            per = (time.perf_counter() - started) / requests * 1e3
            print(f"\n=== {name}: {url}  {per:.3f} ms/request (under cProfile)")
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out).sort_stats(sort)
            stats.print_stats(top)
            print("\n".join(out.getvalue().splitlines()[6:]))


def markdown(report: dict) -> str:
    lines = [
        "| endpoint | gunicorn CPU ms/req DRF / bare (median of rounds, range) "
        "| DRF / bare (bare / DRF CPU ms, median, range) "
        "| req/s DRF / bare (all rounds; median ratio, range) | target |",
        "|---|---:|---:|---:|---|",
    ]
    for name, row in report["results"].items():
        ds, bs = row["drf_cpu_ms_spread"], row["bare_cpu_ms_spread"]
        cs, rs = row["cpu_ratio_spread"], row["ratio_spread"]
        lines.append(
            f"| `GET {row['drf_path']}` ({name}) | "
            f"{row['drf_cpu_ms']:.2f} ({ds['min']:.2f}-{ds['max']:.2f}) / "
            f"{row['bare_cpu_ms']:.2f} ({bs['min']:.2f}-{bs['max']:.2f}) | "
            f"**{row['cpu_ratio']:.0%}** ({cs['min']:.0%}-{cs['max']:.0%}) | "
            f"{row['drf_rps']:.1f} / {row['bare_rps']:.1f}; {row['ratio']:.0%} "
            f"({rs['min']:.0%}-{rs['max']:.0%}) | "
            f"{'PASS' if row['pass'] else 'MISS'} (>= {report['target_ratio']:.0%}) |"
        )
    feed = report["feed_comparison"]
    fs = feed["cpu_factor_spread"]
    lines += [
        "",
        "| DRF list vs the DRF feed | gunicorn CPU ms/req (median) | list / feed CPU "
        "(median of rounds, range) | req/s | feed / list (req/s) | target (CPU) |",
        "|---|---:|---:|---:|---:|---|",
        f"| `GET {feed['routines_path']}` vs `GET {feed['feed_path']}` | "
        f"{feed['routines_cpu_ms']:.2f} vs {feed['feed_cpu_ms']:.2f} | "
        f"{feed['cpu_factor']:.2f}x ({fs['min']:.2f}-{fs['max']:.2f}) | "
        f"{feed['routines_rps']:.1f} vs {feed['feed_rps']:.1f} | "
        f"{feed['rps_factor']:.2f}x | "
        f"{'PASS' if feed['pass'] else 'MISS'} (<= {feed['target_factor']:.0f}x) |",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=48, help="per URL, total")
    parser.add_argument("--rounds", type=int, default=16)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--port", type=int, default=0, help="default: free in 8900-8950"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--profile", type=int, metavar="N", help="cProfile N requests")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="tottime", help="pstats key (--profile)")
    parser.add_argument("--only", default="", help="one pair (--profile)")
    args = parser.parse_args()
    if args.profile:
        profile(args.profile, args.top, args.sort, args.only)
        return 0
    args.seconds = max(1.0, min(args.seconds, 600))
    args.rounds = max(1, min(args.rounds, 50))
    report = measure(args)
    print(
        f"gunicorn {report['workers']} workers x {report['threads']} threads, "
        f"{report['clients']} clients, {report['seconds_per_url']:.0f} s per URL in "
        f"{report['rounds']} interleaved rounds; {report['data']}"
    )
    print(markdown(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    passed = [r["pass"] for r in report["results"].values()]
    return 0 if all(passed) and report["feed_comparison"]["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
