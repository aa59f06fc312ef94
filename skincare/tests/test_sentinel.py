"""The cache and throttles through Redis Sentinel survive losing the primary.

A real primary, a replica and three sentinels run on loopback; the primary is killed
while the API is answering, the sentinels promote the replica, and the project's
cache client follows them.
"""

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import redis
from django.test import override_settings

from skincare.settings import redis_sentinel_cache
from skincare.testing import free_port, run_with_settings, skip_or_fail

MASTER = "mymaster"


# ------------------------------------------------------------------------------
# Settings (no servers)
# ------------------------------------------------------------------------------
def settings_with(env: dict) -> subprocess.CompletedProcess:
    """Load the settings in a fresh interpreter with only this environment."""
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "c = s.CACHES['default']; "
        "print(json.dumps({'location': c.get('LOCATION'), "
        "'options': c.get('OPTIONS', {}), "
        "'broker': s.CELERY_BROKER_TRANSPORT_OPTIONS}, default=str))"
    )
    return run_with_settings(
        code,
        env,
    )


def test_sentinels_configure_the_cache_on_the_primary_only():
    result = settings_with(
        {
            "REDIS_SENTINELS": "10.0.0.1:26379, 10.0.0.2:26380",
            "REDIS_SENTINEL_MASTER": "cache-primary",
            "REDIS_SENTINEL_DB": "3",
        }
    )

    assert result.returncode == 0, result.stderr
    cache = json.loads(result.stdout)
    assert cache["location"] == ["redis://cache-primary/3?is_master=1"]
    assert cache["options"]["CLIENT_CLASS"] == "django_redis.client.SentinelClient"
    assert cache["options"]["SENTINELS"] == [["10.0.0.1", 26379], ["10.0.0.2", 26380]]
    assert cache["options"]["IGNORE_EXCEPTIONS"] is True


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"REDIS_SENTINELS": "10.0.0.1:26379"}, "needs REDIS_SENTINEL_MASTER"),
        (
            {
                "REDIS_SENTINELS": "10.0.0.1:26379",
                "REDIS_SENTINEL_MASTER": "m",
                "REDIS_URL": "redis://10.0.0.1:6379/1",
            },
            "not both",
        ),
        (
            {"REDIS_SENTINELS": "10.0.0.1", "REDIS_SENTINEL_MASTER": "m"},
            "host:port entries",
        ),
        (
            {"CELERY_BROKER_URL": "sentinel://10.0.0.1:26379"},
            "needs CELERY_BROKER_SENTINEL_MASTER",
        ),
    ],
)
def test_incomplete_sentinel_settings_refuse_to_start(env, message):
    result = settings_with(env)

    assert result.returncode != 0
    assert message in result.stderr


def test_broker_through_sentinels_names_the_master():
    result = settings_with(
        {
            "CELERY_BROKER_URL": "sentinel://10.0.0.1:26379;sentinel://10.0.0.2:26379",
            "CELERY_BROKER_SENTINEL_MASTER": "broker-primary",
        }
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["broker"]["master_name"] == "broker-primary"


def wait_for(predicate, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except redis.RedisError:
            value = None
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what}: not met within {timeout} s")


# ------------------------------------------------------------------------------
# A failover under traffic
# ------------------------------------------------------------------------------
class Cluster:
    """redis-server processes: primary, replica, sentinels (Debian's redis-server)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.processes: dict[str, subprocess.Popen] = {}
        self.ports: dict[str, int] = {}

    def _start(self, name: str, args: list[str]) -> None:
        port = free_port()
        log = (self.folder / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            ["redis-server", *args, "--port", str(port)],
            cwd=self.folder,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.ports[name] = port
        wait_for(self.client(name).ping, 10, f"{name} up")

    def client(self, name: str) -> redis.Redis:
        return redis.Redis(
            port=self.ports[name], socket_timeout=1, socket_connect_timeout=1
        )

    def start(self) -> "Cluster":
        data = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self._start("primary", data)
        self._start(
            "replica",
            [*data, "--replicaof", "127.0.0.1", str(self.ports["primary"])],
        )
        for i in range(3):
            conf = self.folder / f"sentinel{i}.conf"  # sentinels rewrite their file
            conf.write_text(
                "bind 127.0.0.1\n"
                f"dir {self.folder}\n"
                f"sentinel monitor {MASTER} 127.0.0.1 {self.ports['primary']} 2\n"
                f"sentinel down-after-milliseconds {MASTER} 1000\n"
                f"sentinel failover-timeout {MASTER} 10000\n"
            )
            self._start(f"sentinel{i}", [str(conf), "--sentinel"])
        replica = self.client("replica")
        wait_for(
            lambda: replica.info("replication")["master_link_status"] == "up",
            what="replica in sync",
        )
        for name in self.sentinels:
            client = self.client(name)
            wait_for(
                lambda c=client: (
                    len(c.sentinel_slaves(MASTER)) == 1
                    and len(c.sentinel_sentinels(MASTER)) == 2
                ),
                what=f"{name} knows the replica and the other sentinels",
            )
        return self

    @property
    def sentinels(self) -> list[str]:
        return [name for name in self.ports if name.startswith("sentinel")]

    def master_ports(self) -> set[int]:
        """The primary's port as each sentinel reports it (they agree only in time)."""
        return {
            int(self.client(name).sentinel_get_master_addr_by_name(MASTER)[1])
            for name in self.sentinels
        }

    def kill(self, name: str) -> None:
        self.processes[name].send_signal(signal.SIGKILL)
        self.processes[name].wait(10)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)


@pytest.fixture
def cluster(tmp_path):
    if shutil.which("redis-server") is None:
        skip_or_fail("redis-server is not installed")
    cluster = Cluster(tmp_path)
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture
def sentinel_cache(cluster):
    """The project's cache settings pointed at the sentinels (as REDIS_SENTINELS)."""
    addresses = [("127.0.0.1", cluster.ports[name]) for name in cluster.sentinels]
    with override_settings(
        CACHES={"default": redis_sentinel_cache(addresses, MASTER, 0)}
    ):
        yield cluster


@pytest.mark.slow
@pytest.mark.django_db
def test_api_keeps_answering_and_throttles_keep_counting_across_a_failover(
    sentinel_cache, auth_client, rates
):
    # given: a per-user limit of 40 requests, 10 of them spent on the primary
    cluster = sentinel_cache
    rates(user="40/hour")
    urls = ["/api/v1/notifications/unread-count/", "/api/v1/products/"]
    statuses = [auth_client.get(urls[i % 2]).status_code for i in range(10)]
    assert statuses == [200] * 10
    primary = cluster.client("primary")
    assert [int(primary.get(key)) for key in primary.keys("*throttle_user*")] == [10]
    wait_for(  # the replica has the counts before the primary dies
        lambda: (
            cluster.client("replica").info("replication")["master_repl_offset"]
            >= primary.info("replication")["master_repl_offset"]
        ),
        what="replica caught up",
    )

    # when: the primary dies under traffic until the sentinels promote the replica
    cluster.kill("primary")
    during = []
    deadline = time.monotonic() + 60
    # (until every sentinel says so: a client asking one that lags would still be
    # sent to the dead primary and fail open)
    while cluster.master_ports() != {cluster.ports["replica"]}:
        assert time.monotonic() < deadline, "no failover within 60 s"
        during.append(auth_client.get(urls[len(during) % 2]).status_code)
        time.sleep(0.05)

    # then: nothing failed while Redis was away (throttles fail open meanwhile)
    assert during, "no request was sent while the primary was down"
    assert set(during) == {200}, during
    # and the new primary carries the counts and keeps counting to the limit
    after = []
    while 429 not in after and len(after) < 40:
        after.append(auth_client.get(urls[0]).status_code)
    assert after[-1] == 429, "the throttle stopped counting after the failover"
    assert set(after[:-1]) == {200}
    assert len(after) <= 31, "the counts made before the failover were lost"
    new_primary = cluster.client("replica")
    assert new_primary.info("replication")["role"] == "master"
    assert [int(new_primary.get(k)) for k in new_primary.keys("*throttle_user*")] == [
        41
    ]


@pytest.mark.slow
def test_broker_through_the_sentinel_transport_follows_the_failover(cluster):
    # given: Celery's sentinel:// transport as CELERY_BROKER_URL configures it
    from kombu import Connection

    url = ";".join(
        f"sentinel://127.0.0.1:{cluster.ports[name]}" for name in cluster.sentinels
    )

    def broker() -> Connection:
        return Connection(url, transport_options={"master_name": MASTER})

    with broker() as conn:
        conn.SimpleQueue("probe").put({"n": 1})
    primary = cluster.client("primary")
    wait_for(
        lambda: (
            cluster.client("replica").info("replication")["master_repl_offset"]
            >= primary.info("replication")["master_repl_offset"]
        ),
        what="replica caught up",
    )

    # when: the primary dies and the sentinels promote the replica
    cluster.kill("primary")
    wait_for(
        lambda: cluster.master_ports() == {cluster.ports["replica"]},
        timeout=60,
        what="failover",
    )

    # then: the transport finds the new primary, with the replicated message on it
    with broker() as conn:
        queue = conn.SimpleQueue("probe")
        message = queue.get(timeout=10)
        assert message.payload == {"n": 1}
        message.ack()
        queue.put({"n": 2})
        assert queue.get(timeout=10).payload == {"n": 2}
