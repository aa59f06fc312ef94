"""Throughput of GET /api/v1/routines/ against a bare Django view on one gunicorn.

Starts gunicorn (the repo's gunicorn.conf.py) on a free loopback port against the
PostgreSQL and Redis named by DATABASE_URL / REDIS_URL, with BENCH_VIEWS=True. A
bench user gets 5 routines x 6 catalogue products (ORM). Both URLs are then loaded
by keep-alive client threads for a fixed time; requests/s and the ratio are printed.
Both answer the same body from the same queries after the same JWT check; the
difference is what DRF adds (throttle lookup in Redis, negotiation, pagination,
renderer).

Run from the repository root:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/skincare_bench \
    REDIS_URL=redis://127.0.0.1:6379/3 .venv/bin/python bench/routines_bench.py \
    [--seconds 10] [--clients 8]
"""

import argparse
import http.client
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECRET = "bench-" + secrets.token_urlsafe(48)
ENV = {
    "DJANGO_SETTINGS_MODULE": "skincare.settings",
    "DJANGO_DEBUG": "False",
    "DJANGO_SECRET_KEY": SECRET,
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "False",
    "BENCH_VIEWS": "True",
    "JWT_ACCESS_MINUTES": "120",
    # The per-user throttle stays on (it is part of the cost) but must not refuse.
    "THROTTLE_USER": "100000000/min",
    "LOG_LEVEL": "WARNING",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare() -> str:
    """Migrate, create the bench user with 5 routines x 6 steps; return a JWT."""
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        check=True,
    )
    import django

    django.setup()
    from datetime import date

    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.models import User
    from routines.models import Product, Routine, RoutineStep

    user, _ = User.objects.get_or_create(
        email="routines-bench@example.com", defaults={"timezone": "Europe/Paris"}
    )
    Routine.objects.filter(user=user).delete()
    products = list(Product.objects.order_by("slug")[:30])
    for r in range(5):
        routine = Routine.objects.create(
            user=user, period=("am", "pm", "weekly", "am", "pm")[r], name=f"R{r}"
        )
        RoutineStep.objects.bulk_create(
            RoutineStep(
                routine=routine,
                position=i + 1,
                product=p,
                name=p.name,
                step_kind="serum",
                active_from=date(2024, 1, 1),
            )
            for i, p in enumerate(products[r * 6 : r * 6 + 6])
        )
    return str(RefreshToken.for_user(user).access_token)


def wait_for(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def load(port: int, path: str, token: str, seconds: float, clients: int) -> float:
    """Requests per second over ``seconds`` with ``clients`` keep-alive threads."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    counts = [0] * clients
    errors: list[str] = []
    stop = time.monotonic() + seconds

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.monotonic() < stop:
            try:
                conn.request("GET", path, headers=headers)
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
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    hard = [e for e in errors if not e.startswith(("Remote", "Connection"))]
    if hard:
        raise RuntimeError(f"{path}: {hard[0]}")
    return sum(counts) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("set DATABASE_URL to a PostgreSQL database (and REDIS_URL)")
    if not os.environ.get("REDIS_URL"):
        sys.exit("set REDIS_URL")
    os.environ.update(ENV)
    token = prepare()
    port = free_port()
    env = {**os.environ, "GUNICORN_BIND": f"127.0.0.1:{port}"}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
    )
    try:
        wait_for(port)
        paths = {"DRF  GET /api/v1/routines/": "/api/v1/routines/"}
        paths["bare GET /bench/routines/ "] = "/bench/routines/"
        for path in paths.values():  # warm up workers, connections, imports
            load(port, path, token, 2, args.clients)
        results = {
            name: load(port, path, token, args.seconds, args.clients)
            for name, path in paths.items()
        }
    finally:
        server.terminate()
        server.wait(timeout=30)
    workers = os.environ.get("GUNICORN_WORKERS", "3")
    threads = os.environ.get("GUNICORN_THREADS", "2")
    print(
        f"gunicorn {workers} workers x {threads} threads, {args.clients} clients, "
        f"{args.seconds:.0f}s each; 5 routines x 6 steps with warnings"
    )
    for name, rate in results.items():
        print(f"{name}  {rate:8.1f} req/s")
    drf, bare = results.values()
    print(f"DRF / bare = {drf / bare:.2f}")


if __name__ == "__main__":
    main()
