"""Shared pieces of bench/load.py and bench/drills.py.

Production-mode environment, database and gunicorn helpers, the ORM seed and the
mixed-workload HTTP client (plain http.client keep-alive threads). Loopback only;
every loop is bounded in count and in time.
"""

import http.client
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = str(ROOT / ".venv" / "bin" / "python")
BIN = ROOT / ".venv" / "bin"
RESULTS = ROOT / "bench" / "results"
PASSWORD = "load-Patient-pass-7"


def production_env(
    *, database_url: str, redis_url: str, broker_url: str, **extra
) -> dict:
    """Production mode (DEBUG off) on loopback, throttles relaxed for the load users."""
    env = dict(os.environ)
    env.update(
        {
            "PATH": f"{BIN}:{env.get('PATH', '')}",
            "DJANGO_SETTINGS_MODULE": "skincare.settings",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "load-" + secrets.token_urlsafe(48),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            # Production mode refuses the console backend; drills pass a real one.
            "EMAIL_URL": "smtp://127.0.0.1:1",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "CELERY_BROKER_URL": broker_url,
            "CACHE_KEY_PREFIX": "skincare-load",
            "LANDMARK_MODEL_PATH": str(ROOT / "var/models/face_landmarker.task"),
            "JWT_ACCESS_MINUTES": "120",
            "LOG_LEVEL": "WARNING",
            # All load users come from 127.0.0.1: per-IP and per-account limits stay
            # in the request path (their Redis cost is measured) but must not refuse.
            "THROTTLE_ANON": "10000000/min",
            "THROTTLE_USER": "10000000/min",
            "THROTTLE_AUTH": "10000000/min",
            "THROTTLE_SIGN_IN_ACCOUNT": "10000000/min",
        }
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def sh(cmd, env=None, check=True, **kw):
    return subprocess.run(cmd, cwd=ROOT, env=env, check=check, **kw)


def ensure_database(name: str, port: int = 5432) -> None:
    out = sh(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "postgres",
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname='{name}'",
        ],
        capture_output=True,
        text=True,
    ).stdout
    if "1" not in out:
        sh(["createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", name])


def migrate(env: dict) -> None:
    sh([PY, "manage.py", "migrate", "--noinput", "-v", "0"], env=env)


def fresh_database(name: str, env: dict) -> None:
    """Drop and re-create database `name`, then migrate it with env's DATABASE_URL."""
    for command in ("dropdb", "createdb"):
        sh(
            [command, "-h", "127.0.0.1", "-U", "postgres", name],
            check=False,
            capture_output=True,
        )
    sh([PY, "manage.py", "migrate", "--noinput"], env=env, capture_output=True)


@contextmanager
def test_databases():
    """Django's test databases, created and then dropped, for a bench that runs in
    process (after django.setup())."""
    from django.test.utils import (
        setup_databases,
        setup_test_environment,
        teardown_databases,
        teardown_test_environment,
    )

    setup_test_environment()
    old = setup_databases(verbosity=0, interactive=False)
    try:
        yield
    finally:
        teardown_databases(old, verbosity=0)
        teardown_test_environment()


def collectstatic(env: dict) -> None:
    sh(
        [PY, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
    )


def wait_port(port: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def get(port: int, path: str, timeout: float = 5) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    except (OSError, http.client.HTTPException):
        return 0, b""
    finally:
        conn.close()


class Gunicorn:
    """The repo's gunicorn.conf.py on a loopback port, as the entrypoint runs it."""

    def __init__(self, env: dict, port: int, log: Path, **gunicorn_env):
        self.env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}"}
        self.env.update({k: str(v) for k, v in gunicorn_env.items()})
        self.port = port
        self.log = log
        self.proc = None

    def start(self, timeout: float = 60) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self._logf = open(self.log, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py"],
            cwd=ROOT,
            env=self.env,
            stdout=self._logf,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log}")
            if get(self.port, "/health/live/")[0] == 200:
                return
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer /health/live/")

    def hup(self) -> None:
        self.proc.send_signal(signal.SIGHUP)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc:
            self._logf.close()


# ------------------------------------------------------------------------------
# Seed (ORM, in the calling process after django.setup())
# ------------------------------------------------------------------------------
def add_routines(user, *, routines: int, steps: int) -> None:
    """Routines of catalogue products (the test factories), warnings stored as a
    write through the services would store them."""
    from datetime import date

    from routines import services
    from routines.models import Product, RoutineStep
    from routines.tests.factories import RoutineFactory

    catalogue = list(Product.objects.order_by("slug")[:30])
    for r in range(routines):
        routine = RoutineFactory(user=user, period=("am", "pm", "weekly")[r % 3])
        RoutineStep.objects.bulk_create(
            RoutineStep(
                routine=routine,
                position=i + 1,
                product=catalogue[(r + i) % len(catalogue)],
                name=f"Step {i}",
                step_kind="serum",
                active_from=date(2024, 1, 1),
            )
            for i in range(steps)
        )
    services.refresh_warnings(user=user)


def seed(*, patients: int, dermatologists: int, prefix: str = "load") -> dict:
    """Patients with 2 routines x 5 steps and 30 notifications each; dermatologists
    verified with weekday hours (the test factories). Idempotent by e-mail."""
    from datetime import date

    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from accounts.models import User
    from consultations.models import Consultation, Dermatologist
    from consultations.tests.factories import DermatologistFactory
    from notifications.models import Notification
    from routines.models import Product, Routine, RoutineStep

    # Leftover bookings from an earlier run hold the slots; start clean.
    Consultation.objects.filter(patient__email__startswith=f"{prefix}-p").delete()
    password_hash = make_password(PASSWORD)
    products = list(Product.objects.order_by("slug")[:40])
    now = datetime.now(UTC)
    emails = []
    for i in range(patients):
        email = f"{prefix}-p{i:04d}@example.com"
        emails.append(email)
        if User.objects.filter(email=email).exists():
            continue
        with transaction.atomic():
            user = User.objects.create(
                email=email,
                password=password_hash,
                timezone="Europe/Paris",
                email_verified_at=now,
                consent_share_with_dermatologists_at=now,
            )
            for r, period in enumerate(("am", "pm")):
                routine = Routine.objects.create(user=user, period=period, name=period)
                RoutineStep.objects.bulk_create(
                    RoutineStep(
                        routine=routine,
                        position=s + 1,
                        product=products[(i + r * 5 + s) % len(products)],
                        name=products[(i + r * 5 + s) % len(products)].name,
                        step_kind="serum",
                        active_from=date(2024, 1, 1),
                    )
                    for s in range(5)
                )
            Notification.objects.bulk_create(
                Notification(
                    recipient=user,
                    kind="routine_reminder",
                    title=f"Reminder {n}",
                    body="Time for your routine.",
                    in_app=True,
                    read_at=now if n % 3 else None,
                )
                for n in range(30)
            )
    derm_ids = []
    for d in range(dermatologists):
        email = f"{prefix}-derm{d}@example.com"
        derm = Dermatologist.objects.filter(user__email=email).first()
        if derm is None:
            derm = DermatologistFactory(
                user__email=email, minimum_notice_hours=1, horizon_days=60
            )
        derm_ids.append(str(derm.pk))
    return {"emails": emails, "dermatologists": derm_ids}


def clear_bookings(prefix: str = "load") -> int:
    from consultations.models import Consultation

    n, _ = Consultation.objects.filter(
        patient__email__startswith=f"{prefix}-p"
    ).delete()
    return n


# ------------------------------------------------------------------------------
# Mixed workload
# ------------------------------------------------------------------------------
# Each virtual user signs in first, then again now and then (a mobile app mostly
# refreshes; sign-in is an Argon2 hash, ~170 ms of both CPUs here, by design).
WEIGHTS = {
    "routines": 25,
    "products_search": 20,
    "notifications": 25,
    "slots": 17,
    "booking": 11,
    "sign_in": 2,
}
SEARCH_TERMS = [
    "acid",
    "cream",
    "niacinamide",
    "retinol",
    "spf",
    "gel",
    "serum",
    "hyaluronic",
    "oil",
    "vitamin c",
    "zinc",
    "clean",
]
GET_ACTIONS = {"routines", "products_search", "notifications", "slots"}


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = defaultdict(list)  # action -> seconds (completed responses)
        self.statuses = defaultdict(Counter)  # action -> status -> n
        self.errors = Counter()  # kind -> n
        self.error_samples = []
        self.conflicts = 0  # booking 409 slot_taken
        self.stale_retries = 0
        self.timeline = []  # (t, action, status or error)
        self.booked = []  # ids of consultations answered 201

    def record(self, action, status, latency, t, body=b""):
        with self.lock:
            self.statuses[action][status] += 1
            self.timeline.append((t, action, status))
            if latency is not None:
                self.latencies[action].append(latency)
            if action == "booking" and status == 409:
                self.conflicts += 1

    def error(self, action, kind, detail, t):
        with self.lock:
            self.errors[kind] += 1
            self.timeline.append((t, action, kind))
            if len(self.error_samples) < 20:
                self.error_samples.append(f"{action}: {kind}: {detail}"[:300])


EXPECTED = {
    "sign_in": {200},
    "routines": {200},
    "products_search": {200},
    "notifications": {200},
    "slots": {200},
    "booking": {201, 409},
}


def percentile(values, p):
    if not values:
        return None
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


class VirtualUser:
    """One mobile client: its own keep-alive connection, JWT and last slot lists."""

    def __init__(self, port, email, dermatologists, stats, rng, t0):
        self.port = port
        self.email = email
        self.dermatologists = dermatologists
        self.stats = stats
        self.rng = rng
        self.t0 = t0
        self.token = None
        self.conn = None
        self.used = 0
        self.slots = {}

    def _connect(self):
        if self.conn is not None:
            self.conn.close()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        self.used = 0

    def _dropped(self) -> bool:
        """Like urllib3's is_connection_dropped: the server closed an idle socket."""
        sock = self.conn.sock if self.conn else None
        if sock is None:
            return False
        import select

        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable)  # an idle keep-alive socket is readable only at EOF

    def request(self, action, method, path, body=None, auth=True):
        headers = {"Accept": "application/json", "Host": "127.0.0.1"}
        if body is not None:
            body = json.dumps(body)
            headers["Content-Type"] = "application/json"
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        for attempt in (0, 1):
            if self.conn is None or self._dropped():
                self._connect()
            reused = self.used > 0
            started = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
            except (OSError, http.client.HTTPException) as exc:
                self._connect()
                # A keep-alive socket the server closed between our check and the
                # send (worker recycled or reloaded): nothing was answered. Clients
                # retry that once on a new connection for idempotent requests.
                stale = isinstance(
                    exc,
                    http.client.RemoteDisconnected
                    | ConnectionResetError
                    | BrokenPipeError,
                )
                if attempt == 0 and reused and stale and method == "GET":
                    with self.stats.lock:
                        self.stats.stale_retries += 1
                    continue
                self.stats.error(
                    action, "connection", repr(exc), time.monotonic() - self.t0
                )
                return None, None
            latency = time.perf_counter() - started
            self.used += 1
            t = time.monotonic() - self.t0
            self.stats.record(action, resp.status, latency, t)
            if resp.status >= 500:
                self.stats.error(action, f"http_{resp.status}", data[:200], t)
            elif resp.status not in EXPECTED[action]:
                self.stats.error(action, f"unexpected_{resp.status}", data[:200], t)
            try:
                return resp.status, json.loads(data) if data else None
            except ValueError:
                return resp.status, None
        return None, None

    def sign_in(self):
        status, data = self.request(
            "sign_in",
            "POST",
            "/api/v1/auth/token/",
            {"email": self.email, "password": PASSWORD},
            auth=False,
        )
        if status == 200 and data:
            self.token = data["access"]

    def _window(self):
        monday = datetime.now(UTC).date() + timedelta(
            days=7 - datetime.now(UTC).weekday()
        )
        start = datetime.combine(
            monday + timedelta(weeks=self.rng.randrange(0, 6)),
            datetime.min.time(),
            tzinfo=UTC,
        )
        return start, start + timedelta(days=7)

    def step(self, action):
        if self.token is None or action == "sign_in":
            self.sign_in()
            return
        if action == "routines":
            self.request(action, "GET", "/api/v1/routines/")
        elif action == "products_search":
            term = self.rng.choice(SEARCH_TERMS).replace(" ", "+")
            self.request(action, "GET", f"/api/v1/products/?search={term}")
        elif action == "notifications":
            self.request(action, "GET", "/api/v1/notifications/")
        elif action == "slots" or (action == "booking" and not self.slots):
            derm = self.rng.choice(self.dermatologists)
            start, end = self._window()
            q = (
                f"from={start.isoformat().replace('+', '%2B')}"
                f"&to={end.isoformat().replace('+', '%2B')}&type=video"
            )
            status, data = self.request(
                "slots", "GET", f"/api/v1/dermatologists/{derm}/slots/?{q}"
            )
            if status == 200 and data and data.get("slots"):
                self.slots[derm] = data["slots"]
        elif action == "booking":
            derm = self.rng.choice(list(self.slots))
            free = self.slots[derm]
            # The first few free slots: clients race for them, so 409 is expected.
            start = free.pop(self.rng.randrange(min(3, len(free))))
            if not free:
                del self.slots[derm]
            status, data = self.request(
                action,
                "POST",
                "/api/v1/consultations/",
                {
                    "dermatologist": derm,
                    "start": start,
                    "type": "video",
                    "reason": "Load test booking.",
                },
            )
            if status == 201 and data:
                with self.stats.lock:
                    self.stats.booked.append(data["id"])

    def close(self):
        if self.conn is not None:
            self.conn.close()


TOKENS: dict = {}  # e-mail -> access token: sessions outlive one level


def sign_in_all(port, emails, clients):
    """Sign the first `clients` users in before a measured window (sessions that
    already exist); in the window they sign in again at the mix's rate."""
    stats = Stats()
    for i in range(min(clients, len(emails))):
        if emails[i] in TOKENS:
            continue
        user = VirtualUser(
            port, emails[i], [], stats, random.Random(i), time.monotonic()
        )
        user.sign_in()
        user.close()
        if user.token:
            TOKENS[emails[i]] = user.token
    return stats


def run_workload(
    *,
    port,
    emails,
    dermatologists,
    clients,
    seconds,
    seed=1,
    weights=None,
    max_requests_per_client=100_000,
    on_tick=None,
):
    """`clients` virtual users for `seconds` (bounded); returns (Stats, elapsed)."""
    weights = weights or WEIGHTS
    sign_in_all(port, emails, clients)
    actions, w = zip(*weights.items(), strict=True)
    stats = Stats()
    t0 = time.monotonic()
    stop_at = t0 + seconds

    def worker(i):
        rng = random.Random(seed * 1000 + i)
        user = VirtualUser(
            port, emails[i % len(emails)], dermatologists, stats, rng, t0
        )
        user.token = TOKENS.get(user.email)
        try:
            for _ in range(max_requests_per_client):
                if time.monotonic() >= stop_at:
                    break
                user.step(rng.choices(actions, w)[0])
        finally:
            user.close()

    threads = [
        threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)
    ]
    for th in threads:
        th.start()
    if on_tick is not None:
        on_tick(t0, stop_at)
    for th in threads:
        th.join(timeout=seconds + 60)
    return stats, time.monotonic() - t0


def summarise(stats: Stats, elapsed: float) -> dict:
    all_lat = [x for v in stats.latencies.values() for x in v]
    total = sum(sum(c.values()) for c in stats.statuses.values())
    per_action = {}
    for action, lats in sorted(stats.latencies.items()):
        per_action[action] = {
            "n": len(lats),
            "p50_ms": round(1000 * percentile(lats, 50), 1),
            "p99_ms": round(1000 * percentile(lats, 99), 1),
            "statuses": dict(stats.statuses[action]),
        }
    return {
        "requests": total,
        "seconds": round(elapsed, 2),
        "rps": round(total / elapsed, 1) if elapsed else 0,
        "p50_ms": round(1000 * percentile(all_lat, 50), 1) if all_lat else None,
        "p99_ms": round(1000 * percentile(all_lat, 99), 1) if all_lat else None,
        "errors": sum(stats.errors.values()),
        "error_kinds": dict(stats.errors),
        "error_samples": stats.error_samples,
        "booking_conflicts_409": stats.conflicts,
        "stale_keepalive_retries": stats.stale_retries,
        "per_action": per_action,
    }


def machine() -> dict:
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "uname_m": os.uname().machine,
        "nproc": os.cpu_count(),
        "python": sys.version.split()[0],
    }
