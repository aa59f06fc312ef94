"""Push protocols: FCM HTTP v1 (Android), APNs (iOS) and a sender that only logs.

Both services speak JSON over HTTPS; httpx carries it (HTTP/2 through h2, which APNs
requires) and PyJWT[crypto] signs the credentials: an RS256 assertion exchanged for a
Google OAuth2 access token (cached until shortly before it expires) and an ES256
provider token for APNs (reused for 50 minutes, as Apple asks). Endpoints are
settings, so tests talk to local fakes. A sender raises one of the errors below; the
outbox (notifications.services) decides what each means for the delivery.
"""

import email.utils
import hashlib
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import jwt
from django.conf import settings

logger = logging.getLogger(__name__)

FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# Apple refuses provider tokens older than an hour and new ones more often than every
# 20 minutes: one token is reused for 50.
APNS_TOKEN_LIFETIME = 50 * 60
APNS_COLLAPSE_ID_MAX_BYTES = 64


@dataclass(frozen=True)
class PushMessage:
    """What a phone shows and keeps; nothing here may be health information."""

    title: str
    body: str
    # Identifiers only; the app fetches details through the API.
    data: dict[str, str] = field(default_factory=dict)
    # A newer message with the same key replaces the older one on the phone.
    collapse_key: str = ""
    # Undelivered by then, the service drops it (time-to-live).
    expires_at: datetime | None = None
    # Stable per delivery (APNs apns-id), so a resend is recognisable.
    message_id: str = ""

    def ttl_seconds(self, now: datetime | None = None) -> int:
        if self.expires_at is None:
            return 28 * 24 * 3600
        now = now or datetime.now(UTC)
        return max(int((self.expires_at - now).total_seconds()), 0)


class PushError(Exception):
    """A push was not delivered; ``reason`` is the service's own word for why."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class DeviceGone(PushError):
    """The token will never work again (app uninstalled, token invalid)."""


class TransientPushError(PushError):
    """Worth retrying later; ``retry_after`` seconds when the service said so."""

    def __init__(self, reason: str, detail: str = "", retry_after: int | None = None):
        super().__init__(reason, detail)
        self.retry_after = retry_after


class PushConfigError(PushError):
    """Our credentials or settings are refused: an operator must fix them."""


class PushRejected(PushError):
    """This message can never be sent as it is (malformed, too large)."""


def retry_after_seconds(value: str | None) -> int | None:
    """A Retry-After header (seconds or an HTTP date) in whole seconds, or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(int((moment - datetime.now(UTC)).total_seconds()), 0)


# ------------------------------------------------------------------------------
# Shared HTTP clients: one pool per process and kind, reused across sends (APNs
# wants its HTTP/2 connection kept open). Keyed by pid: a forked worker builds its own.
# ------------------------------------------------------------------------------
_clients: dict[tuple[int, str, float], httpx.Client] = {}
_clients_lock = threading.Lock()


def _client(kind: str, timeout: float) -> httpx.Client:
    key = (os.getpid(), kind, timeout)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            if kind == "apns":
                # HTTP/2 only: ALPN over TLS, prior knowledge on a plain-http fake.
                client = httpx.Client(http1=False, http2=True, timeout=timeout)
            else:
                client = httpx.Client(timeout=timeout)
            _clients[key] = client
        return client


def _json_or_empty(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _fingerprint(*parts: str | bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def _read_key_file(setting: str, path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise PushConfigError(
            "credential_unreadable", f"{setting}={path}: {exc.strerror}"
        ) from None


# ------------------------------------------------------------------------------
# FCM HTTP v1
# https://firebase.google.com/docs/cloud-messaging/send/v1-api
# https://developers.google.com/identity/protocols/oauth2/service-account#httprest
# ------------------------------------------------------------------------------
_access_tokens: dict[str, tuple[str, float]] = {}
_access_tokens_lock = threading.Lock()


class FcmSender:
    """Android pushes through FCM HTTP v1 with a service-account key."""

    service = "fcm"

    def __init__(
        self,
        *,
        key: dict,
        fingerprint: str,
        project_id: str,
        base_url: str,
        token_url: str,
        timeout: float,
    ):
        missing = [
            name for name in ("client_email", "private_key") if not key.get(name)
        ]
        if missing:
            raise PushConfigError(
                "credential_invalid",
                f"FCM_SERVICE_ACCOUNT_FILE lacks {', '.join(missing)}",
            )
        self.key = key
        self.fingerprint = fingerprint
        self.project_id = project_id or key.get("project_id", "")
        if not self.project_id:
            raise PushConfigError(
                "credential_invalid", "no FCM_PROJECT_ID and none in the key file"
            )
        self.base_url = base_url.rstrip("/")
        self.token_url = token_url
        self.timeout = timeout

    @classmethod
    def from_settings(cls) -> "FcmSender":
        path = settings.FCM_SERVICE_ACCOUNT_FILE
        raw = _read_key_file("FCM_SERVICE_ACCOUNT_FILE", path)
        try:
            key = json.loads(raw)
        except ValueError:
            raise PushConfigError(
                "credential_invalid", "FCM_SERVICE_ACCOUNT_FILE is not JSON"
            ) from None
        if not isinstance(key, dict):
            raise PushConfigError(
                "credential_invalid", "FCM_SERVICE_ACCOUNT_FILE is not a key object"
            )
        return cls(
            key=key,
            fingerprint=fcm_fingerprint(raw),
            project_id=settings.FCM_PROJECT_ID,
            base_url=settings.FCM_BASE_URL,
            token_url=settings.FCM_TOKEN_URL,
            timeout=settings.PUSH_TIMEOUT_SECONDS,
        )

    # -- OAuth2 ---------------------------------------------------------------
    def _cache_key(self) -> str:
        return f"{self.fingerprint}:{self.token_url}"

    def forget_access_token(self) -> None:
        with _access_tokens_lock:
            _access_tokens.pop(self._cache_key(), None)

    def access_token(self) -> str:
        """A Google access token for FCM, fetched once and reused until near expiry."""
        with _access_tokens_lock:
            cached = _access_tokens.get(self._cache_key())
            if cached and cached[1] > time.monotonic():
                return cached[0]
            token, lifetime = self._fetch_access_token()
            # Renewed five minutes early (at worst halfway) so no send meets an
            # expired token.
            margin = min(300, lifetime // 2)
            _access_tokens[self._cache_key()] = (
                token,
                time.monotonic() + lifetime - margin,
            )
            return token

    def _assertion(self) -> str:
        now = int(time.time())
        claims = {
            "iss": self.key["client_email"],
            "scope": FCM_SCOPE,
            "aud": self.token_url,
            "iat": now,
            "exp": now + 3600,
        }
        kid = self.key.get("private_key_id")
        headers = {"kid": kid} if kid else None
        try:
            return jwt.encode(claims, self.key["private_key"], "RS256", headers=headers)
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            raise PushConfigError(
                "credential_invalid",
                f"FCM_SERVICE_ACCOUNT_FILE private_key cannot sign: {exc}",
            ) from None

    def _fetch_access_token(self) -> tuple[str, int]:
        try:
            response = _client("fcm", self.timeout).post(
                self.token_url,
                data={"grant_type": JWT_BEARER_GRANT, "assertion": self._assertion()},
            )
        except httpx.HTTPError as exc:
            raise TransientPushError("token_endpoint_unreachable", str(exc)) from None
        body = _json_or_empty(response)
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientPushError(
                "token_endpoint_unavailable",
                f"HTTP {response.status_code}",
                retry_after_seconds(response.headers.get("retry-after")),
            )
        if response.status_code != 200 or not body.get("access_token"):
            raise PushConfigError(
                "credential_refused",
                f"token endpoint answered HTTP {response.status_code} "
                f"{body.get('error', '')} {body.get('error_description', '')}".strip(),
            )
        return body["access_token"], max(int(body.get("expires_in", 3600)), 60)

    # -- Sending --------------------------------------------------------------
    @staticmethod
    def payload(token: str, message: PushMessage) -> dict:
        android: dict = {
            "priority": "HIGH",
            "ttl": f"{message.ttl_seconds()}s",
            "notification": {},
        }
        if message.collapse_key:
            # collapse_key: FCM keeps only the newest undelivered one; tag: the
            # newest replaces the shown one in the tray.
            android["collapse_key"] = message.collapse_key
            android["notification"]["tag"] = message.collapse_key
        return {
            "message": {
                "token": token,
                "notification": {"title": message.title, "body": message.body},
                "data": {k: str(v) for k, v in message.data.items()},
                "android": android,
            }
        }

    def send(self, token: str, message: PushMessage) -> str:
        """Send one message; returns FCM's message name."""
        url = f"{self.base_url}/v1/projects/{self.project_id}/messages:send"
        try:
            response = _client("fcm", self.timeout).post(
                url,
                json=self.payload(token, message),
                headers={"Authorization": f"Bearer {self.access_token()}"},
            )
        except httpx.HTTPError as exc:
            raise TransientPushError("fcm_unreachable", str(exc)) from None
        if response.status_code == 200:
            return _json_or_empty(response).get("name", "")
        raise self._error(response)

    def _error(self, response: httpx.Response) -> PushError:
        error = _json_or_empty(response).get("error") or {}
        status = error.get("status", "") if isinstance(error, dict) else ""
        codes = [
            d.get("errorCode", "")
            for d in (error.get("details") or [] if isinstance(error, dict) else [])
            if isinstance(d, dict)
        ]
        reason = next((c for c in codes if c), status) or f"HTTP_{response.status_code}"
        detail = (error.get("message", "") if isinstance(error, dict) else "")[:300]
        if reason == "UNREGISTERED":
            return DeviceGone(reason, detail)
        if response.status_code in (429, 500, 502, 503, 504):
            return TransientPushError(
                reason, detail, retry_after_seconds(response.headers.get("retry-after"))
            )
        if response.status_code == 401:
            # The access token may have been revoked early: the next try fetches one.
            self.forget_access_token()
            return PushConfigError(reason, detail or "FCM refused the access token")
        if response.status_code in (403, 404):
            # SENDER_ID_MISMATCH, PERMISSION_DENIED, an unknown project: ours to fix.
            return PushConfigError(reason, detail)
        return PushRejected(reason, detail)

    def check(self) -> None:
        """Prove the credential works: an access token can be had (cached)."""
        self.access_token()


def fcm_fingerprint(raw: bytes) -> str:
    return _fingerprint(
        raw,
        settings.FCM_PROJECT_ID,
        settings.FCM_TOKEN_URL,
        settings.FCM_BASE_URL,
    )


# ------------------------------------------------------------------------------
# APNs, token-based (JWT) authentication over HTTP/2
# https://developer.apple.com/documentation/usernotifications/sending-notification-requests-to-apns
# https://developer.apple.com/documentation/usernotifications/establishing-a-token-based-connection-to-apns
# ------------------------------------------------------------------------------
_provider_tokens: dict[str, tuple[str, float]] = {}
_provider_tokens_lock = threading.Lock()

APNS_DEVICE_GONE = {
    "BadDeviceToken",
    "Unregistered",
    "DeviceTokenNotForTopic",
    "ExpiredToken",
}
APNS_CONFIG = {
    "InvalidProviderToken",
    "MissingProviderToken",
    "BadCertificate",
    "BadCertificateEnvironment",
    "BadTopic",
    "MissingTopic",
    "TopicDisallowed",
    "Forbidden",
}


class ApnsSender:
    """iOS pushes through APNs with a .p8 signing key (token-based auth)."""

    service = "apns"

    def __init__(
        self,
        *,
        key_pem: bytes,
        fingerprint: str,
        key_id: str,
        team_id: str,
        topic: str,
        host: str,
        timeout: float,
    ):
        self.key_pem = key_pem
        self.fingerprint = fingerprint
        self.key_id = key_id
        self.team_id = team_id
        self.topic = topic
        self.host = host.rstrip("/")
        self.timeout = timeout

    @classmethod
    def from_settings(cls) -> "ApnsSender":
        key_pem = _read_key_file("APNS_KEY_FILE", settings.APNS_KEY_FILE)
        return cls(
            key_pem=key_pem,
            fingerprint=apns_fingerprint(key_pem),
            key_id=settings.APNS_KEY_ID,
            team_id=settings.APNS_TEAM_ID,
            topic=settings.APNS_TOPIC,
            host=settings.APNS_HOST,
            timeout=settings.PUSH_TIMEOUT_SECONDS,
        )

    def forget_provider_token(self) -> None:
        with _provider_tokens_lock:
            _provider_tokens.pop(self.fingerprint, None)

    def provider_token(self) -> str:
        with _provider_tokens_lock:
            cached = _provider_tokens.get(self.fingerprint)
            if cached and cached[1] > time.monotonic():
                return cached[0]
            try:
                token = jwt.encode(
                    {"iss": self.team_id, "iat": int(time.time())},
                    self.key_pem,
                    "ES256",
                    headers={"kid": self.key_id},
                )
            except (ValueError, TypeError, jwt.PyJWTError) as exc:
                raise PushConfigError(
                    "credential_invalid",
                    f"APNS_KEY_FILE is not a usable ES256 (P-256) key: {exc}",
                ) from None
            _provider_tokens[self.fingerprint] = (
                token,
                time.monotonic() + APNS_TOKEN_LIFETIME,
            )
            return token

    @staticmethod
    def payload(message: PushMessage) -> dict:
        return {
            "aps": {
                "alert": {"title": message.title, "body": message.body},
                "sound": "default",
            },
            **{k: str(v) for k, v in message.data.items()},
        }

    def headers(self, message: PushMessage) -> dict[str, str]:
        headers = {
            "authorization": f"bearer {self.provider_token()}",
            "apns-topic": self.topic,
            "apns-push-type": "alert",
            "apns-priority": "10",
        }
        if message.expires_at is not None:
            headers["apns-expiration"] = str(int(message.expires_at.timestamp()))
        if message.collapse_key:
            collapse = message.collapse_key
            if len(collapse.encode()) > APNS_COLLAPSE_ID_MAX_BYTES:
                collapse = hashlib.sha256(collapse.encode()).hexdigest()[:64]
            headers["apns-collapse-id"] = collapse
        if message.message_id:
            headers["apns-id"] = message.message_id
        return headers

    def send(self, token: str, message: PushMessage) -> str:
        """Send one notification; returns the apns-id."""
        try:
            response = _client("apns", self.timeout).post(
                f"{self.host}/3/device/{token}",
                json=self.payload(message),
                headers=self.headers(message),
            )
        except httpx.HTTPError as exc:
            raise TransientPushError("apns_unreachable", str(exc)) from None
        if response.status_code == 200:
            return response.headers.get("apns-id", "")
        raise self._error(response)

    def _error(self, response: httpx.Response) -> PushError:
        body = _json_or_empty(response)
        reason = body.get("reason") or f"HTTP_{response.status_code}"
        if reason in APNS_DEVICE_GONE or response.status_code == 410:
            return DeviceGone(reason)
        if reason == "ExpiredProviderToken":
            self.forget_provider_token()
            return TransientPushError(reason, "provider token renewed", 1)
        if reason in APNS_CONFIG or response.status_code == 403:
            self.forget_provider_token()
            return PushConfigError(reason, f"APNs refused key {self.key_id}")
        if response.status_code in (429, 500, 502, 503, 504):
            retry_after = retry_after_seconds(response.headers.get("retry-after"))
            return TransientPushError(reason, "", retry_after)
        return PushRejected(reason, f"HTTP {response.status_code}")

    def check(self) -> None:
        """Prove the key signs a provider token (APNs has no credential probe)."""
        self.provider_token()


def apns_fingerprint(key_pem: bytes) -> str:
    return _fingerprint(
        key_pem,
        settings.APNS_KEY_ID,
        settings.APNS_TEAM_ID,
        settings.APNS_TOPIC,
        settings.APNS_HOST,
    )


# ------------------------------------------------------------------------------
# Log only: the embedded default, so `make run` shows what a phone would get
# ------------------------------------------------------------------------------
class LogSender:
    """Writes the payload a service would get to the log; sends nothing."""

    def __init__(self, service: str):
        self.service = service
        self.fingerprint = "log"

    def send(self, token: str, message: PushMessage) -> str:
        if self.service == "apns":
            payload = ApnsSender.payload(message)
        else:
            payload = FcmSender.payload("<device token>", message)["message"]
        logger.info(
            "push (log only, %s not configured): %s",
            self.service.upper(),
            json.dumps(payload, sort_keys=True),
        )
        return ""

    def check(self) -> None:
        return None
