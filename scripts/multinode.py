"""Multi-node proof on one machine: two web nodes, no shared disk, one bucket.

Starts, all on loopback: two gunicorn nodes (docker/entrypoint.sh web, the repo's
gunicorn.conf.py, production mode) on different ports, each with its own empty
MEDIA_ROOT; one analysis worker (`-Q analysis`) and one notifications worker
(`-Q notifications,default`), again with media folders of their own; an SMTP sink;
and, unless STORAGE_URL_MULTINODE (or --storage-url) names a bucket, a SeaweedFS
server. All share one PostgreSQL database (made afresh), one Redis (two databases:
cache and broker) and the bucket.

A round-robin client then registers (the verification e-mail comes through the
notifications worker), uploads a photo on node A, waits for the analysis worker,
reads the photo and the result on node B, books a consultation on node B sharing
that analysis and cancels it on node A, and deletes a catalogue product through the
admin of node A and sees it gone on node B (whose cache held it). Finally every
media folder must still be empty. Each step is printed; any mismatch exits 1.

    .venv/bin/python scripts/multinode.py            # DATABASE_URL, REDIS_URL from env
"""

from __future__ import annotations

import argparse
import email
import io
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "multinode-Pass-7391"  # noqa: S105 - a throwaway account


class Mismatch(Exception):
    """What the proof expected did not happen."""


def say(message: str) -> None:
    sys.stdout.write(f"[{datetime.now(UTC):%H:%M:%S}] {message}\n")
    sys.stdout.flush()


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Mismatch(message)


def free_port() -> int:
    from skincare.testing import free_port as port

    return port()


# ------------------------------------------------------------------------------
# Parts: database, Redis, SMTP sink, bucket
# ------------------------------------------------------------------------------
def fresh_database(url: str, name: str) -> str:
    """Drop and create database `name` on the server of `url`; return its URL."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return urlunsplit(parts._replace(path=f"/{name}"))


def drop_database(url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    admin_url = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


def redis_db(url: str, db: int) -> str:
    """The same Redis server, another database number; emptied."""
    import redis

    parts = urlsplit(url)
    target = urlunsplit(parts._replace(path=f"/{db}"))
    redis.Redis.from_url(target).flushdb()
    return target


class SMTPSink:
    """Keeps every message the notifications worker sends (aiosmtpd)."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[email.message.Message] = []
        self.lock = threading.Lock()
        self.port = free_port()
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                with sink.lock:
                    sink.messages.append(email.message_from_bytes(envelope.content))
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SMTPSink:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    def wait_for(self, to: str, subject_part: str, timeout: float) -> str:
        """The text body of the first message to `to` whose subject matches."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for message in self.messages:
                    if to in message.get("To", "") and subject_part in message.get(
                        "Subject", ""
                    ):
                        for part in message.walk():
                            if part.get_content_type() == "text/plain":
                                return part.get_payload(decode=True).decode()
            time.sleep(0.2)
        raise Mismatch(f"no e-mail '{subject_part}' to {to} within {timeout:.0f} s")


# ------------------------------------------------------------------------------
# Processes
# ------------------------------------------------------------------------------
class Processes:
    """Children in their own process groups, stopped in reverse order."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.children: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        log = (self.logs / f"{name}.log").open("ab")
        process = subprocess.Popen(  # noqa: S603 - fixed programs
            argv,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.children.append((name, process))

    def check_alive(self) -> None:
        for name, process in self.children:
            if process.poll() is not None:
                raise Mismatch(f"{name} exited with {process.returncode}")

    def stop(self) -> None:
        for _name, process in reversed(self.children):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for name, process in reversed(self.children):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                say(f"{name} did not stop on SIGTERM; killing it")
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)

    def tail(self, lines: int = 25) -> None:
        for log in sorted(self.logs.glob("*.log")):
            text = log.read_text(errors="replace").splitlines()[-lines:]
            sys.stdout.write(f"--- {log.name} (last {len(text)} lines)\n")
            sys.stdout.write("\n".join(text) + "\n")


def wait_ready(url: str, processes: Processes, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        processes.check_alive()
        try:
            response = httpx.get(f"{url}/health/ready/", timeout=5)
            if response.status_code == 200:
                return
            last = response.text
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.5)
    raise Mismatch(f"{url} not ready within {timeout:.0f} s: {last}")


# ------------------------------------------------------------------------------
# The round-robin client
# ------------------------------------------------------------------------------
class RoundRobin:
    """Sends each request to the next node, unless a step names the node."""

    def __init__(self, nodes: dict[str, str]) -> None:
        self.nodes = nodes
        self.order = list(nodes)
        self.turn = 0
        self.token = ""
        self.client = httpx.Client(timeout=30)
        self.served: list[str] = []

    def request(self, method: str, path: str, *, node: str | None = None, **kw):
        if node is None:
            node = self.order[self.turn % len(self.order)]
            self.turn += 1
        headers = kw.pop("headers", {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        response = self.client.request(
            method, f"{self.nodes[node]}/api/v1/{path}", headers=headers, **kw
        )
        self.served.append(node)
        say(f"  {node}: {method} /api/v1/{path} -> {response.status_code}")
        return response


def expect(response: httpx.Response, status: int) -> httpx.Response:
    check(
        response.status_code == status,
        f"{response.request.method} {response.request.url} answered "
        f"{response.status_code}, expected {status}: {response.text[:300]}",
    )
    return response


def face_jpeg() -> bytes:
    """skimage's astronaut, head and shoulders at 1024 px (what the tests use)."""
    from PIL import Image
    from skimage import data

    head = data.astronaut()[7:263, 97:353]
    out = io.BytesIO()
    Image.fromarray(head).resize((1024, 1024), Image.BICUBIC).save(
        out, format="JPEG", quality=92
    )
    return out.getvalue()


def admin_delete_product(base: str, product_id: str, email_address: str, password: str):
    """Sign in to the admin of one node and delete a product there.

    Production mode marks cookies Secure, which an http client keeps to itself;
    this loopback client carries them by hand.
    """
    cookies: dict[str, str] = {}

    def send(method: str, path: str, **kw) -> httpx.Response:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
        response = httpx.request(
            method, f"{base}{path}", headers=headers, timeout=30, **kw
        )
        for header in response.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            cookies[name.strip()] = rest.split(";", 1)[0]
        return response

    def csrf(page: httpx.Response) -> str:
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        check(found is not None, f"no CSRF token on {page.request.url}")
        return found.group(1)

    login = send("GET", "/admin/login/?next=/admin/")
    signed_in = send(
        "POST",
        "/admin/login/?next=/admin/",
        data={
            "csrfmiddlewaretoken": csrf(login),
            "username": email_address,
            "password": password,
            "next": "/admin/",
        },
    )
    check(signed_in.status_code == 302, f"admin sign-in: {signed_in.status_code}")
    path = f"/admin/routines/product/{product_id}/delete/"
    confirm = send("GET", path)
    check(confirm.status_code == 200, f"admin delete page: {confirm.status_code}")
    deleted = send(
        "POST", path, data={"csrfmiddlewaretoken": csrf(confirm), "post": "yes"}
    )
    check(deleted.status_code == 302, f"admin delete: {deleted.status_code}")


# ------------------------------------------------------------------------------
# The proof
# ------------------------------------------------------------------------------
def prove(rr: RoundRobin, smtp: SMTPSink, timeout: float) -> list[str]:
    done = []
    address = f"multinode-{secrets.token_hex(4)}@example.com"

    say("1. register, verify the address from the e-mail the notifications worker sent")
    expect(
        rr.request(
            "POST", "auth/register/", json={"email": address, "password": PASSWORD}
        ),
        201,
    )
    body = smtp.wait_for(address, "Confirm", timeout)
    code = re.search(r"Code: (\S+)", body)
    check(code is not None, "the verification e-mail carries no code")
    expect(rr.request("POST", "auth/verify-email/", json={"token": code.group(1)}), 200)
    tokens = expect(
        rr.request(
            "POST", "auth/token/", json={"email": address, "password": PASSWORD}
        ),
        200,
    ).json()
    rr.token = tokens["access"]
    expect(rr.request("PATCH", "users/me/", json={"consent_photo_analysis": True}), 200)
    done.append("registered and verified across nodes (e-mail via notifications queue)")

    say("2. upload on node A, wait for the analysis worker, read on node B")
    upload = expect(
        rr.request(
            "POST",
            "analyses/",
            node="A",
            files={"photo": ("face.jpg", face_jpeg(), "image/jpeg")},
        ),
        202,
    ).json()
    analysis_id = upload["id"]
    deadline = time.monotonic() + timeout
    while True:
        result = expect(rr.request("GET", f"analyses/{analysis_id}/", node="B"), 200)
        status = result.json()["status"]
        if status in ("completed", "failed"):
            break
        check(time.monotonic() < deadline, f"analysis still {status} after {timeout} s")
        time.sleep(1)
    check(status == "completed", f"analysis {status}: {result.text[:300]}")
    check(bool(result.json().get("scores")), "completed analysis without scores")
    photo_b = expect(rr.request("GET", f"analyses/{analysis_id}/photo/", node="B"), 200)
    photo_a = expect(rr.request("GET", f"analyses/{analysis_id}/photo/", node="A"), 200)
    check(photo_b.content[:3] == b"\xff\xd8\xff", "node B's photo is not a JPEG")
    check(photo_a.content == photo_b.content, "nodes A and B serve different photos")
    done.append(
        f"photo uploaded on A, analysed by the worker, same {len(photo_b.content)} "
        "bytes served by B and A"
    )

    say("3. book on node B (sharing the analysis), cancel on node A")
    dermatologists = expect(rr.request("GET", "dermatologists/"), 200).json()
    check(dermatologists["results"], "no dermatologist to book")
    derm = dermatologists["results"][0]
    kinds = [t.get("kind") or t.get("type") for t in derm.get("consultation_types", [])]
    kind = next((k for k in kinds if k), "video")
    start = datetime.now(UTC) + timedelta(days=2)
    slots = expect(
        rr.request(
            "GET",
            f"dermatologists/{derm['id']}/slots/",
            params={
                "from": start.isoformat(),
                "to": (start + timedelta(days=7)).isoformat(),
                "type": kind,
            },
        ),
        200,
    ).json()["slots"]
    check(bool(slots), "no free slot in the coming week")
    slot = slots[0]["start"] if isinstance(slots[0], dict) else slots[0]
    booking = expect(
        rr.request(
            "POST",
            "consultations/",
            node="B",
            json={
                "dermatologist": derm["id"],
                "start": slot,
                "type": kind,
                "reason": "multi-node proof",
                "analyses": [analysis_id],
                "consent_share_with_dermatologists": True,
            },
        ),
        201,
    ).json()
    expect(
        rr.request("POST", f"consultations/{booking['id']}/cancel/", node="A", json={}),
        200,
    )
    seen = expect(rr.request("GET", f"consultations/{booking['id']}/", node="B"), 200)
    check(
        seen.json()["status"].startswith("cancel"),
        f"node B sees status {seen.json()['status']}",
    )
    done.append(f"booked {slot} on B, cancelled on A, B sees {seen.json()['status']}")

    say("4. the catalogue: cached on node B, a product deleted in node A's admin")
    rr.token = ""
    products = expect(rr.request("GET", "products/", node="B"), 200).json()
    product = products["results"][0]
    expect(rr.request("GET", f"products/{product['id']}/", node="B"), 200)
    from accounts.demo import DEMO_ADMIN

    admin_delete_product(rr.nodes["A"], product["id"], *DEMO_ADMIN)
    say(f"  A: admin deleted product {product['id']}")
    expect(rr.request("GET", f"products/{product['id']}/", node="B"), 404)
    after = expect(rr.request("GET", "products/", node="B"), 200).json()
    check(
        after["count"] == products["count"] - 1,
        f"node B lists {after['count']} products, expected {products['count'] - 1}",
    )
    done.append(
        f"product deleted on A: B answers 404 and lists {after['count']} "
        f"(was {products['count']})"
    )
    return done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--database-name", default="skincare_multinode")
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument("--cache-db", type=int, default=4)
    parser.add_argument("--broker-db", type=int, default=5)
    parser.add_argument(
        "--storage-url", default=os.environ.get("STORAGE_URL_MULTINODE", "")
    )
    parser.add_argument("--timeout", type=float, default=180)
    args = parser.parse_args()
    if not args.database_url.startswith("postgres"):
        parser.error("a PostgreSQL --database-url (or DATABASE_URL) is needed")
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="skincare-multinode-"))
    logs = work / "logs"
    logs.mkdir()
    processes = Processes(logs)
    media = {name: work / f"media-{name}" for name in ("A", "B", "analysis", "notify")}
    for folder in media.values():
        folder.mkdir()
    with ExitStack() as stack:
        storage_url = args.storage_url
        if not storage_url:
            from skincare.seaweedfs import SeaweedFS

            server = SeaweedFS(work / "seaweedfs", buckets=("multinode",)).start()
            stack.callback(server.stop)
            storage_url = server.storage_url()
            say(f"SeaweedFS started on {server.endpoint}")
        smtp = stack.enter_context(SMTPSink())
        bin_dir = str(ROOT / ".venv" / "bin")
        env = {
            **os.environ,
            "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
            "DATABASE_URL": fresh_database(args.database_url, args.database_name),
            "REDIS_URL": redis_db(args.redis_url, args.cache_db),
            "CELERY_BROKER_URL": redis_db(args.redis_url, args.broker_db),
            "STORAGE_URL": storage_url,
            "CACHE_KEY_PREFIX": "multinode",
            "LOG_FORMAT": "plain",
        }
        for name in (
            "BACKUP_STORAGE_URL",
            "CELERY_TASK_ALWAYS_EAGER",
            "REDIS_SENTINELS",
        ):
            env.pop(name, None)
        stack.callback(processes.stop)
        say(f"database {args.database_name}: migrate, then the demo dermatologist")
        python = str(ROOT / ".venv" / "bin" / "python")
        subprocess.run(  # noqa: S603
            [python, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        # what the image build does (Dockerfile): the admin's static files
        subprocess.run(  # noqa: S603
            [python, "manage.py", "collectstatic", "--noinput"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        subprocess.run(  # noqa: S603
            [python, "manage.py", "seed_demo"],
            cwd=ROOT,
            env={**env, "DJANGO_DEBUG": "true"},
            check=True,
            stdout=subprocess.DEVNULL,
        )
        nodes = {}
        for name in ("A", "B"):
            (work / f"prometheus-{name}").mkdir()
            port = free_port()
            nodes[name] = f"http://127.0.0.1:{port}"
            processes.start(
                f"web-{name}",
                ["sh", "docker/entrypoint.sh", "web"],
                {
                    **env,
                    "MEDIA_ROOT": str(media[name]),
                    "GUNICORN_BIND": f"127.0.0.1:{port}",
                    "GUNICORN_WORKERS": "2",
                    "PROMETHEUS_MULTIPROC_DIR": str(work / f"prometheus-{name}"),
                },
            )
        celery = str(ROOT / ".venv" / "bin" / "celery")
        processes.start(
            "worker-analysis",
            [
                celery,
                "-A",
                "skincare",
                "worker",
                "-Q",
                "analysis",
                "--pool",
                "prefork",
                "--concurrency",
                "1",
                "--hostname",
                "analysis@multinode",
            ],
            {**env, "MEDIA_ROOT": str(media["analysis"])},
        )
        processes.start(
            "worker-notifications",
            [
                celery,
                "-A",
                "skincare",
                "worker",
                "-Q",
                "notifications,default",
                "--pool",
                "threads",
                "--concurrency",
                "4",
                "--hostname",
                "notifications@multinode",
            ],
            {**env, "MEDIA_ROOT": str(media["notify"])},
        )
        try:
            for name, url in nodes.items():
                wait_ready(url, processes, args.timeout)
                say(f"node {name} ready at {url} (media {media[name]})")
            rr = RoundRobin(nodes)
            done = prove(rr, smtp, args.timeout)
            leftovers = [
                str(path) for folder in media.values() for path in folder.rglob("*")
            ]
            check(not leftovers, f"files written to local media folders: {leftovers}")
            done.append("no file in any node's or worker's local media folder")
            processes.check_alive()
        except Mismatch as exc:
            say(f"MISMATCH: {exc}")
            processes.tail()
            return 1
    drop_database(args.database_url, args.database_name)
    counts = {node: rr.served.count(node) for node in nodes}
    say(
        f"multi-node proof passed in {time.monotonic() - started:.0f} s "
        f"(requests per node: {counts}):"
    )
    for line in done:
        say(f"  - {line}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
