"""Fault drills (`make drills`): each prints PASS/FAIL with its figures.

Everything runs on servers this script starts and stops itself, never the shared ones:
  - PostgreSQL: its own cluster (initdb) in /tmp/skincare-drill-pg on 127.0.0.1:5440
  - Redis: cache on 127.0.0.1:6390, broker on 127.0.0.1:6391 (no persistence)
  - gunicorn (repo config, production mode) on 127.0.0.1:8810
  - SMTP sink (aiosmtpd) on 127.0.0.1:8825 recording each Message-ID
  - Celery workers started and SIGKILLed by the drill

Drills:
  a  cache Redis stopped under load: no 5xx, throttles fail open, recovery
  b  PostgreSQL restarted under load: recovers without restarting gunicorn
  c  Celery worker SIGKILLed with 500 e-mails in flight: all arrive, duplicates counted
  d  broker restarted: e-mails enqueued before/during it arrive (re-driven)
  e  gunicorn HUP (x3) under load: no failed request

    .venv/bin/python bench/drills.py [a b c d e]     (default: all)
Results: bench/results/drills.md and drills.json.
"""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import contextlib

import common

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_DATA = Path("/tmp/skincare-drill-pg")
PG_PORT = 5440
DB = "skincare_drill"
CACHE_PORT, BROKER_PORT = 6390, 6391
WEB_PORT, SMTP_PORT = 8810, 8825
TMP = Path("/tmp/skincare-drills")
SMTP_LOG = TMP / "smtp.jsonl"


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ------------------------------------------------------------------------------
# Own servers
# ------------------------------------------------------------------------------
def pg(*args, check=True):
    cmd = " ".join([str(PG_BIN / "pg_ctl"), "-D", str(PG_DATA), *args])
    # Output to a file, never a pipe: the postmaster would hold the pipe open.
    with open(TMP / "pg_ctl.log", "ab") as out:
        return subprocess.run(
            ["runuser", "-u", "postgres", "--", "sh", "-c", cmd],
            check=check,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            timeout=60,
        )


def pg_start():
    if not (PG_DATA / "PG_VERSION").exists():
        PG_DATA.mkdir(parents=True, exist_ok=True)
        subprocess.run(["chown", "postgres:postgres", str(PG_DATA)], check=True)
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(PG_BIN / "initdb"),
                "-D",
                str(PG_DATA),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
        )
    if pg("status", check=False).returncode != 0:
        pg(
            "-w",
            "-t",
            "30",
            "-l",
            str(PG_DATA / "server.log"),
            "-o",
            f"'-p {PG_PORT} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off'",
            "start",
        )
    common.ensure_database(DB, PG_PORT)


def pg_restart():
    pg("-w", "-t", "30", "-m", "fast", "-l", str(PG_DATA / "server.log"), "restart")


def pg_stop():
    pg("-w", "-m", "fast", "stop", check=False)


def redis_start(port):
    subprocess.run(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "yes",
            "--pidfile",
            str(TMP / f"redis-{port}.pid"),
            "--logfile",
            str(TMP / f"redis-{port}.log"),
        ],
        check=True,
    )
    for _ in range(50):
        if redis_ping(port):
            return
        time.sleep(0.1)
    raise RuntimeError(f"redis {port} did not start")


def redis_ping(port):
    r = subprocess.run(
        ["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True
    )
    return r.stdout.strip() == "PONG"


def redis_stop(port):
    subprocess.run(
        ["redis-cli", "-p", str(port), "shutdown", "nosave"], capture_output=True
    )
    for _ in range(50):
        if not redis_ping(port):
            return
        time.sleep(0.1)


def drill_env(**extra):
    return common.production_env(
        database_url=f"postgres://postgres@127.0.0.1:{PG_PORT}/{DB}",
        redis_url=f"redis://127.0.0.1:{CACHE_PORT}/0",
        broker_url=f"redis://127.0.0.1:{BROKER_PORT}/0",
        EMAIL_URL=f"smtp://127.0.0.1:{SMTP_PORT}",
        NOTIFICATION_SENDING_TIMEOUT_SECONDS=5,
        NOTIFICATION_REQUEUE_AFTER_SECONDS=5,
        NOTIFICATION_RETRY_BASE_SECONDS=1,
        **extra,
    )


# ------------------------------------------------------------------------------
# SMTP sink and workers
# ------------------------------------------------------------------------------
def smtp_sink(port: int, out: Path, delay: float) -> None:
    """Run by `drills.py smtp-sink`: accept every message, append its Message-ID."""
    from aiosmtpd.controller import Controller

    fh = open(out, "a")  # noqa: SIM115

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            from email import message_from_bytes

            msg = message_from_bytes(envelope.original_content or envelope.content)
            if delay:
                await asyncio.sleep(delay)
            fh.write(
                json.dumps(
                    {
                        "message_id": msg["Message-ID"],
                        "to": envelope.rcpt_tos,
                        "t": time.time(),
                    }
                )
                + "\n"
            )
            fh.flush()
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    deadline = time.monotonic() + 1800  # bounded: the drill stops it long before
    try:
        while time.monotonic() < deadline:
            time.sleep(1)
    finally:
        controller.stop()


class Proc:
    def __init__(self, args, env, logname):
        self.logf = open(TMP / logname, "ab")  # noqa: SIM115
        self.p = subprocess.Popen(
            args,
            cwd=common.ROOT,
            env=env,
            stdout=self.logf,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill9(self):
        """SIGKILL the whole process group: the worker and its pool children."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.p.pid, signal.SIGKILL)
        self.p.wait(timeout=10)

    def term(self, timeout=30):
        if self.p.poll() is None:
            os.killpg(self.p.pid, signal.SIGTERM)
            try:
                self.p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill9()
        self.logf.close()


def start_worker(env, name):
    return Proc(
        [
            str(common.BIN / "celery"),
            "-A",
            "skincare",
            "worker",
            "-n",
            f"{name}@drill",
            "--concurrency",
            "4",
            "--loglevel",
            "WARNING",
        ],
        env,
        f"worker-{name}.log",
    )


def received() -> Counter:
    if not SMTP_LOG.exists():
        return Counter()
    return Counter(
        json.loads(line)["message_id"]
        for line in SMTP_LOG.read_text().splitlines()
        if line.strip()
    )


def dispatch(env) -> str:
    r = subprocess.run(
        [common.PY, "manage.py", "dispatch_pending_notifications"],
        cwd=common.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return r.stdout.strip() or r.stderr.strip()[-300:]


def drive_until_sent(env, tag, seconds=150):
    """Run the cron command every 3 s until every delivery of `tag` is sent."""
    from notifications.models import Delivery

    deadline = time.monotonic() + seconds
    runs = []
    while time.monotonic() < deadline:
        qs = Delivery.objects.filter(notification__idempotency_key__startswith=tag)
        left = qs.exclude(status=Delivery.Status.SENT).count()
        if left == 0:
            break
        runs.append(dispatch(env))
        time.sleep(3)
    return runs


def email_verdict(tag, expected_n, runs, extra=None):
    from notifications.models import Delivery, Notification

    time.sleep(2)  # the sink's last writes
    deliveries = list(
        Delivery.objects.filter(notification__idempotency_key__startswith=tag)
    )
    notes = Notification.objects.filter(idempotency_key__startswith=tag).count()
    got = received()
    ids = {d.message_id for d in deliveries}
    lost = [m for m in ids if got[m] == 0]
    dups = {m: got[m] for m in ids if got[m] > 1}
    status = Counter(d.status for d in deliveries)
    resent = sum(1 for d in deliveries if d.attempts > 1)
    ok = notes == expected_n and len(deliveries) == expected_n and not lost
    figures = {
        "notifications": notes,
        "deliveries": len(deliveries),
        "delivery_status": dict(status),
        "arrived_distinct": len(ids) - len(lost),
        "lost": len(lost),
        "duplicates": len(dups),
        "deliveries_sent_more_than_once_attempted": resent,
        "dispatch_runs": len(runs),
        "dispatch_output": runs[:6],
        **(extra or {}),
    }
    return ok, figures


# ------------------------------------------------------------------------------
# Load while a fault happens
# ------------------------------------------------------------------------------
def load_with_fault(data, *, seconds, clients, events):
    """Mixed workload for `seconds`; events: [(at_seconds, name, fn)]."""
    marks = {}

    def on_tick(t0, stop_at):
        for at, name, fn in events:
            while time.monotonic() < min(t0 + at, stop_at):
                time.sleep(0.05)
            marks[f"{name}_start"] = round(time.monotonic() - t0, 2)
            fn()
            marks[f"{name}_end"] = round(time.monotonic() - t0, 2)
            log(f"  {name} at {marks[f'{name}_start']}-{marks[f'{name}_end']} s")

    stats, elapsed = common.run_workload(
        port=WEB_PORT,
        emails=data["emails"],
        dermatologists=data["dermatologists"],
        clients=clients,
        seconds=seconds,
        on_tick=on_tick,
    )
    return stats, elapsed, marks


def window_figures(stats, start, end):
    inside = [x for x in stats.timeline if start <= x[0] <= end]
    after = [x for x in stats.timeline if x[0] > end]
    bad = lambda xs: sum(1 for _, _, s in xs if not isinstance(s, int) or s >= 500)  # noqa: E731
    return {
        "answered_in_window": sum(1 for x in inside if isinstance(x[2], int)),
        "failed_in_window": bad(inside),
        "answered_after": len(after),
        "failed_after": bad(after),
    }


def bookings_kept(stats):
    from consultations.models import Consultation

    ids = set(stats.booked)
    found = Consultation.objects.filter(pk__in=ids).count()
    return len(ids), found


def drill_a(env, data, server):
    """Cache Redis stopped for 10 s under 16 clients."""

    def status_now():
        return common.get(WEB_PORT, "/health/ready/")

    seen = {}

    def stop():
        redis_stop(CACHE_PORT)
        time.sleep(1)
        seen["ready_during"] = status_now()

    def start():
        redis_start(CACHE_PORT)

    stats, elapsed, marks = load_with_fault(
        data,
        seconds=30,
        clients=16,
        events=[(8, "redis_stop", stop), (18, "redis_start", start)],
    )
    time.sleep(1)
    ready_after = status_now()
    s = common.summarise(stats, elapsed)
    w = window_figures(stats, marks["redis_stop_start"], marks["redis_start_end"])
    throttled = sum(c.get(429, 0) for c in stats.statuses.values())
    n_booked, kept = bookings_kept(stats)
    ok = (
        s["errors"] == 0
        and w["answered_in_window"] > 0
        and throttled == 0
        and seen["ready_during"][0] == 503
        and ready_after[0] == 200
        and kept == n_booked
    )
    figures = {
        **_brief(s),
        **w,
        "http_429": throttled,
        "ready_during_outage": seen["ready_during"][0],
        "ready_during_body": seen["ready_during"][1][:200].decode(),
        "ready_after": ready_after[0],
        "bookings_201": n_booked,
        "bookings_in_db": kept,
        "marks": marks,
    }
    return ok, figures


def drill_b(env, data, server):
    """Own PostgreSQL cluster restarted (fast) under 16 clients."""
    pids_before = _gunicorn_pids(server)
    stats, elapsed, marks = load_with_fault(
        data,
        seconds=30,
        clients=16,
        events=[(8, "pg_restart", pg_restart)],
    )
    s = common.summarise(stats, elapsed)
    end = marks["pg_restart_end"]
    w = window_figures(stats, marks["pg_restart_start"], end + 2)
    late = [
        x
        for x in stats.timeline
        if x[0] > end + 2 and (not isinstance(x[2], int) or x[2] >= 500)
    ]
    pids_after = _gunicorn_pids(server)
    n_booked, kept = bookings_kept(stats)
    ready = common.get(WEB_PORT, "/health/ready/")[0]
    # In-flight requests when PostgreSQL drops its connections can fail (500): that is
    # the outage. The drill asserts recovery without a gunicorn restart, nothing
    # failing 2 s after PostgreSQL is back, and no acknowledged booking lost.
    ok = (
        not late
        and pids_before["master"] == pids_after["master"]
        and ready == 200
        and kept == n_booked
        and w["answered_after"] > 0
    )
    figures = {
        **_brief(s),
        **w,
        "failed_later_than_2s_after_restart": len(late),
        "gunicorn_master_same": pids_before["master"] == pids_after["master"],
        "gunicorn_workers_same": pids_before["workers"] == pids_after["workers"],
        "ready_after": ready,
        "bookings_201": n_booked,
        "bookings_in_db": kept,
        "marks": marks,
    }
    return ok, figures


def drill_e(env, data, server):
    """Three SIGHUP reloads under 16 clients."""
    pids_before = _gunicorn_pids(server)
    stats, elapsed, marks = load_with_fault(
        data,
        seconds=28,
        clients=16,
        events=[
            (5, "hup1", server.hup),
            (12, "hup2", server.hup),
            (19, "hup3", server.hup),
        ],
    )
    s = common.summarise(stats, elapsed)
    pids_after = _gunicorn_pids(server)
    n_booked, kept = bookings_kept(stats)
    reloaded = not (set(pids_before["workers"]) & set(pids_after["workers"]))
    ok = s["errors"] == 0 and reloaded and kept == n_booked and s["requests"] > 0
    per_second = Counter()
    for t, _, status in stats.timeline:
        per_second[
            (int(t), "ok" if isinstance(status, int) and status < 500 else "fail")
        ] += 1
    timeline = [
        f"{sec}s:{per_second[(sec, 'ok')]}/{per_second[(sec, 'fail')]}"
        for sec in range(int(elapsed) + 1)
    ]
    figures = {
        **_brief(s),
        "workers_replaced": reloaded,
        "per_second_ok/failed": " ".join(timeline),
        "bookings_201": n_booked,
        "bookings_in_db": kept,
        "marks": marks,
    }
    return ok, figures


def _brief(s):
    return {
        k: s[k]
        for k in (
            "requests",
            "rps",
            "p50_ms",
            "p99_ms",
            "errors",
            "error_kinds",
            "error_samples",
            "booking_conflicts_409",
            "stale_keepalive_retries",
        )
    }


def _gunicorn_pids(server):
    r = subprocess.run(
        ["pgrep", "-P", str(server.proc.pid)], capture_output=True, text=True
    )
    return {"master": server.proc.pid, "workers": sorted(r.stdout.split())}


# ------------------------------------------------------------------------------
# E-mail drills
# ------------------------------------------------------------------------------
def _notify_many(users, tag, start, n):
    from notifications.services import notify

    t = time.monotonic()
    for i in range(start, start + n):
        notify(
            user=users[i % len(users)],
            kind="routine_reminder",
            context={"routine_name": f"drill {i}", "steps_count": 3},
            idempotency_key=f"{tag}-{i:04d}",
        )
    return time.monotonic() - t


def drill_c(env, data, server):
    """500 e-mails; the worker's process group SIGKILLed mid-way; a new one started."""
    from accounts.models import User
    from notifications.models import Delivery, Notification

    tag = f"drill-c-{int(time.time())}"
    users = list(User.objects.filter(email__startswith="load-p")[:50])
    worker = start_worker(env, "c1")
    time.sleep(4)
    base = sum(received().values())
    t = time.monotonic()
    _notify_many(users, tag, 0, 500)
    log(f"  500 notify() calls in {time.monotonic() - t:.1f}s")
    deadline = time.monotonic() + 60
    while sum(received().values()) - base < 150 and time.monotonic() < deadline:
        time.sleep(0.05)
    at_kill = sum(received().values()) - base
    in_flight = Delivery.objects.filter(
        notification__idempotency_key__startswith=tag, status="sending"
    ).count()
    worker.kill9()
    log(f"  worker SIGKILLed after {at_kill} e-mails arrived ({in_flight} sending)")
    # Idempotency: the same 500 keys again create nothing new.
    _notify_many(users, tag, 0, 500)
    worker2 = start_worker(env, "c2")
    try:
        runs = drive_until_sent(env, tag)
    finally:
        worker2.term()
    ok, figures = email_verdict(
        tag,
        500,
        runs,
        {
            "arrived_before_kill": at_kill,
            "sending_at_kill": in_flight,
            "notifications_after_repeat_keys": Notification.objects.filter(
                idempotency_key__startswith=tag
            ).count(),
        },
    )
    return ok, figures


def drill_d(env, data, server):
    """Broker restarted (no persistence): queued and during-outage e-mails re-driven."""
    from accounts.models import User

    tag = f"drill-d-{int(time.time())}"
    users = list(User.objects.filter(email__startswith="load-p")[:50])
    _notify_many(users, tag, 0, 150)  # no worker: they wait in the broker
    queued = _redis_llen(BROKER_PORT, "celery")
    worker = start_worker(env, "d1")
    redis_stop(BROKER_PORT)  # the 150 queued messages are gone with it
    log(f"  broker stopped with {queued} messages queued")
    during = _notify_many(users, tag, 150, 30)
    log(f"  30 notify() calls with the broker down took {during:.1f}s")
    time.sleep(2)
    redis_start(BROKER_PORT)
    _notify_many(users, tag, 180, 50)
    try:
        runs = drive_until_sent(env, tag)
    finally:
        worker.term()
    return email_verdict(
        tag,
        230,
        runs,
        {
            "queued_in_broker_before_restart": queued,
            "notify_seconds_for_30_during_outage": round(during, 1),
        },
    )


def _redis_llen(port, key):
    r = subprocess.run(
        ["redis-cli", "-p", str(port), "llen", key], capture_output=True, text=True
    )
    return int(r.stdout.strip() or 0)


# ------------------------------------------------------------------------------
DRILLS = {
    "a": ("Redis (cache) stopped under load", drill_a),
    "b": ("PostgreSQL restarted under load", drill_b),
    "c": ("Celery worker SIGKILLed with 500 e-mails in flight", drill_c),
    "d": ("Broker restarted", drill_d),
    "e": ("gunicorn HUP under load", drill_e),
}


def main(argv):
    if argv[:1] == ["smtp-sink"]:
        smtp_sink(int(argv[1]), Path(argv[2]), float(argv[3]))
        return 0
    chosen = argv or list(DRILLS)
    TMP.mkdir(parents=True, exist_ok=True)
    SMTP_LOG.unlink(missing_ok=True)
    pg_start()
    for port in (CACHE_PORT, BROKER_PORT):
        if not redis_ping(port):
            redis_start(port)
    env = drill_env()
    common.migrate(env)
    common.collectstatic(env)
    os.environ.update({k: v for k, v in env.items() if k != "PATH"})
    import django

    django.setup()
    data = common.seed(patients=60, dermatologists=3)
    sink = Proc(
        [common.PY, __file__, "smtp-sink", str(SMTP_PORT), str(SMTP_LOG), "0.05"],
        env,
        "smtp.log",
    )
    server = common.Gunicorn(env, WEB_PORT, TMP / "gunicorn.log")
    server.start()
    results = {}
    try:
        common.wait_port(SMTP_PORT)
        for key in chosen:
            title, fn = DRILLS[key]
            log(f"drill {key}: {title}")
            common.clear_bookings()
            from django.db import close_old_connections, connection

            close_old_connections()
            connection.close()
            try:
                ok, figures = fn(env, data, server)
            except Exception as exc:  # a broken drill is a FAIL, not a crash
                ok, figures = False, {"exception": repr(exc)}
            connection.close()
            results[key] = {"title": title, "pass": ok, "figures": figures}
            log(
                f"{'PASS' if ok else 'FAIL'} {key}: {title}: "
                f"{json.dumps(figures, default=str)[:1500]}"
            )
    finally:
        server.stop()
        sink.term(timeout=5)
        for port in (CACHE_PORT, BROKER_PORT):
            redis_stop(port)
        pg_stop()
    write_report(results)
    return 0 if all(r["pass"] for r in results.values()) else 1


def write_report(results):
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    m = common.machine()
    path_json = common.RESULTS / "drills.json"
    previous = json.loads(path_json.read_text()) if path_json.exists() else {}
    merged = {**previous.get("drills", {}), **results}
    path_json.write_text(
        json.dumps({"machine": m, "drills": merged}, indent=2, default=str)
    )
    lines = [
        "# Fault drills (bench/drills.py, `make drills`)",
        "",
        f"Last run {m['date']}, `uname -m` {m['uname_m']}, nproc {m['nproc']}. "
        "Own PostgreSQL cluster on :5440, own Redis on :6390 (cache) and :6391 "
        "(broker), gunicorn (repo config, DEBUG off) on :8810, aiosmtpd on :8825.",
        "",
    ]
    for key in sorted(merged):
        r = merged[key]
        lines += [
            f"## {key}. {r['title']}: **{'PASS' if r['pass'] else 'FAIL'}**",
            "",
            "```json",
            json.dumps(r["figures"], indent=1, default=str),
            "```",
            "",
        ]
    (common.RESULTS / "drills.md").write_text("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
