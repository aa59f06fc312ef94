"""Local stand-ins for Google's token endpoint, FCM HTTP v1 and APNs.

Each checks what the real service checks (signed credentials, required headers, the
APNs HTTP/2 requirement), records what it got, and answers scripted errors in the
services' own shapes. They run under hypercorn in a thread, on an ephemeral port.
"""

import asyncio
import json
import secrets
import socket
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import jwt
from hypercorn.asyncio import serve
from hypercorn.config import Config

from skincare.testing import free_port


@dataclass
class Answer:
    status: int
    body: dict = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Received:
    path: str
    http_version: str
    headers: dict[str, str]
    body: dict


async def _read_body(receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _answer(send, answer: Answer) -> None:
    payload = json.dumps(answer.body).encode() if answer.body else b""
    headers = [(b"content-type", b"application/json")]
    headers += [(k.lower().encode(), v.encode()) for k, v in answer.headers.items()]
    await send(
        {"type": "http.response.start", "status": answer.status, "headers": headers}
    )
    await send({"type": "http.response.body", "body": payload})


class FakeService:
    """An ASGI app with scripted answers per device token (default: success)."""

    def __init__(self):
        self.received: list[Received] = []
        self.script: dict[str, deque[Answer]] = defaultdict(deque)
        self.lock = threading.Lock()
        self.url = ""

    def answer_next(self, device_token: str, *answers: Answer) -> None:
        with self.lock:
            self.script[device_token].extend(answers)

    def _scripted(self, device_token: str) -> Answer | None:
        with self.lock:
            queue = self.script.get(device_token)
            return queue.popleft() if queue else None

    def sent_to(self, device_token: str) -> list[Received]:
        return [r for r in list(self.received) if r.path.endswith(device_token)]

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = await _read_body(receive)
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        await _answer(send, self.handle(scope, headers, body))

    def handle(self, scope, headers: dict[str, str], body: bytes) -> Answer:
        raise NotImplementedError


class FakeFcm(FakeService):
    """Google's OAuth2 token endpoint (/token) and FCM's messages:send, HTTP/1.1."""

    def __init__(self, *, public_key: bytes, client_email: str, project_id: str):
        super().__init__()
        self.public_key = public_key
        self.client_email = client_email
        self.project_id = project_id
        self.access_tokens: set[str] = set()
        self.token_requests = 0

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    def handle(self, scope, headers, body) -> Answer:
        if scope["method"] == "POST" and scope["path"] == "/token":
            return self._token(body)
        if scope["path"] == f"/v1/projects/{self.project_id}/messages:send":
            return self._send(scope, headers, body)
        return Answer(404, {"error": {"code": 404, "status": "NOT_FOUND"}})

    def _token(self, body: bytes) -> Answer:
        self.token_requests += 1
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return Answer(400, {"error": "unsupported_grant_type"})
        try:
            claims = jwt.decode(
                form.get("assertion", ""),
                self.public_key,
                algorithms=["RS256"],
                audience=self.token_url,
                issuer=self.client_email,
            )
        except jwt.PyJWTError:
            refusal = {"error": "invalid_grant", "error_description": "Bad signature."}
            return Answer(400, refusal)
        if "firebase.messaging" not in claims.get("scope", ""):
            return Answer(400, {"error": "invalid_scope"})
        token = f"ya29.{secrets.token_urlsafe(16)}"
        self.access_tokens.add(token)
        return Answer(
            200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}
        )

    def _send(self, scope, headers, body) -> Answer:
        auth = headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.access_tokens:
            return Answer(
                401,
                {"error": {"code": 401, "status": "UNAUTHENTICATED", "message": "no"}},
            )
        message = json.loads(body)["message"]
        device_token = message["token"]
        self.received.append(
            Received(
                f"{scope['path']}/{device_token}",
                scope["http_version"],
                headers,
                message,
            )
        )
        scripted = self._scripted(device_token)
        if scripted is not None:
            return scripted
        return Answer(
            200, {"name": f"projects/{self.project_id}/messages/{time.time_ns()}"}
        )


def fcm_error(status: int, state: str, error_code: str = "", **headers) -> Answer:
    """An FCM v1 error in its documented shape."""
    details = []
    if error_code:
        details.append(
            {
                "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                "errorCode": error_code,
            }
        )
    return Answer(
        status,
        {
            "error": {
                "code": status,
                "message": state,
                "status": state,
                "details": details,
            }
        },
        {k.replace("_", "-"): v for k, v in headers.items()},
    )


class FakeApns(FakeService):
    """APNs' /3/device/<token>: HTTP/2 only, ES256 provider tokens, topic checked."""

    def __init__(self, *, public_key: bytes, key_id: str, team_id: str, topic: str):
        super().__init__()
        self.public_key = public_key
        self.key_id = key_id
        self.team_id = team_id
        self.topic = topic

    def handle(self, scope, headers, body) -> Answer:
        if scope["http_version"] != "2":
            return Answer(505, {"reason": "HTTP/2 required"})
        if scope["method"] != "POST" or not scope["path"].startswith("/3/device/"):
            return Answer(404, {"reason": "BadPath"})
        auth = headers.get("authorization", "")
        try:
            token = auth.removeprefix("bearer ")
            if jwt.get_unverified_header(token).get("kid") != self.key_id:
                raise jwt.InvalidTokenError("kid")
            claims = jwt.decode(token, self.public_key, algorithms=["ES256"])
            if claims.get("iss") != self.team_id:
                raise jwt.InvalidTokenError("iss")
        except jwt.PyJWTError:
            return Answer(403, {"reason": "InvalidProviderToken"})
        if headers.get("apns-topic") != self.topic:
            return Answer(400, {"reason": "DeviceTokenNotForTopic"})
        device_token = scope["path"].removeprefix("/3/device/")
        self.received.append(
            Received(scope["path"], scope["http_version"], headers, json.loads(body))
        )
        scripted = self._scripted(device_token)
        if scripted is not None:
            return scripted
        return Answer(200, headers={"apns-id": headers.get("apns-id", "generated")})


def apns_error(status: int, reason: str, **headers) -> Answer:
    return Answer(
        status,
        {"reason": reason},
        {k.replace("_", "-"): v for k, v in headers.items()},
    )


class ServerThread:
    """Serves an ASGI app with hypercorn on 127.0.0.1 in a background thread."""

    def __init__(self, app: FakeService):
        self.app = app
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self._stopped: asyncio.Event | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        config = Config()
        config.bind = [f"127.0.0.1:{self.port}"]
        config.accesslog = None
        config.errorlog = None

        async def main():
            self._stopped = asyncio.Event()
            await serve(self.app, config, shutdown_trigger=self._stopped.wait)

        self.loop.run_until_complete(main())

    def start(self) -> "ServerThread":
        self.thread.start()
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or not self.thread.is_alive():
                    raise RuntimeError("fake push server did not start") from None
                time.sleep(0.05)
        self.app.url = f"http://127.0.0.1:{self.port}"
        return self

    def stop(self) -> None:
        if self._stopped is not None:
            self.loop.call_soon_threadsafe(self._stopped.set)
        self.thread.join(10)
