"""Webhook publisher: hands an approved reply to the company's own publishing tool.

Vigie never holds the social networks' credentials: in `publishing.mode: webhook` it POSTs the approved text,
as JSON, to the protocol's `webhook_url`, and the company's tool publishes it.

The receiver must be able to trust the request, so each one is signed (the scheme Slack and Stripe use):

    X-Vigie-Timestamp: 1764000000
    X-Vigie-Signature: v1=<hex HMAC-SHA256 of "1764000000." + body, keyed with VIGIE_PUBLISH_WEBHOOK_SECRET>

Signing the timestamp with the body lets the receiver refuse replays of an old request (`verify`'s
tolerance). `Idempotency-Key` stays the same across retries of one publication, so a retry after a timeout
(when the first attempt may have gone through) does not publish twice.

No clock is read here: the caller passes the timestamp, and `verify` takes `now`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

__all__ = ["PublishResult", "publish_webhook", "sign", "verify"]

SIGNATURE_VERSION = "v1"
# Statuses worth trying again: the receiver is busy, rate-limiting, or failing for now.
_RETRYABLE_STATUSES = frozenset({408, 425, 429})
_EXCERPT = 200  # characters of a refusal's body kept in the error (Outbox.last_error holds 500)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Vigie-Signature value for `body` sent at `timestamp` (Unix seconds)."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SIGNATURE_VERSION}={mac.hexdigest()}"


def verify(
    secret: str, timestamp: int, body: bytes, signature: str, *, now: int, tolerance: int = 300
) -> bool:
    """True when `signature` is Vigie's for this body and timestamp, and the timestamp is within
    `tolerance` seconds of `now` (either way: clocks drift). For receivers, and for the tests."""
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).encode()
    # Constant time, so the answer's timing does not reveal how much of a forged signature was right.
    return hmac.compare_digest(expected, signature.encode("utf-8", "replace"))


@dataclass(frozen=True)
class PublishResult:
    ok: bool
    retryable: bool  # worth trying again later, with the same idempotency key
    status: int | None  # the receiver's HTTP status; None when no answer came
    error: str | None  # one sentence for the people following the publication
    public_url: str | None  # where the reply can be seen, when the receiver says so


def publish_webhook(
    client: httpx.Client,
    *,
    url: str,
    secret: str,
    payload: dict[str, Any],
    idempotency_key: str,
    timestamp: int,
) -> PublishResult:
    """POST `payload`, signed, to `url`. Never raises for network problems: the result says what to do."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        "X-Vigie-Timestamp": str(timestamp),
        "X-Vigie-Signature": sign(secret, timestamp, body),
        "Idempotency-Key": idempotency_key,
    }
    where = _host(url)
    try:
        response = client.post(url, content=body, headers=headers)
    except httpx.TimeoutException:
        return _failed(True, None, f"the publishing webhook at {where} did not answer in time")
    except (httpx.UnsupportedProtocol, httpx.InvalidURL):
        return _failed(False, None, f"the publishing webhook address is not usable: {url}")
    except httpx.HTTPError as exc:
        # Connection refused, reset, DNS... The reply may or may not have gone out: retrying is safe, since
        # the receiver sees the same idempotency key.
        return _failed(
            True, None, f"could not reach the publishing webhook at {where} ({type(exc).__name__})"
        )

    status = response.status_code
    if 200 <= status < 300:
        return PublishResult(
            ok=True, retryable=False, status=status, error=None, public_url=_public_url(response)
        )
    if status in _RETRYABLE_STATUSES or status >= 500:
        return _failed(True, status, f"the publishing webhook at {where} failed for now (HTTP {status})")
    if 300 <= status < 400:
        target = response.headers.get("location", "another address")
        return _failed(
            False, status, f"the publishing webhook at {where} redirects to {target}: set webhook_url to it"
        )
    return _failed(
        False,
        status,
        f"the publishing webhook at {where} refused the reply (HTTP {status}){_excerpt(response)}",
    )


def _failed(retryable: bool, status: int | None, error: str) -> PublishResult:
    return PublishResult(ok=False, retryable=retryable, status=status, error=error, public_url=None)


def _host(url: str) -> str:
    # Only the host in messages: a webhook path may carry a token.
    return urlsplit(url).netloc or url


def _public_url(response: httpx.Response) -> str | None:
    """The `url` of a JSON answer such as {"url": "https://..."}; anything else (or no JSON) gives None."""
    try:
        data = response.json()
    except ValueError:  # not JSON, or not UTF-8: the publication still succeeded
        return None
    url = data.get("url") if isinstance(data, dict) else None
    if isinstance(url, str) and urlsplit(url).scheme in ("http", "https"):
        return url
    return None


def _excerpt(response: httpx.Response) -> str:
    text = " ".join(response.text.split())  # one line, whatever the receiver sent
    if not text:
        return ""
    return f": {text[:_EXCERPT]}…" if len(text) > _EXCERPT else f": {text}"
