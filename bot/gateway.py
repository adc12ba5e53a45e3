"""The one door to Slack: the only module that holds a `WebClient`.

It never sleeps and never retries rate limits itself (that would block the calling thread): it classifies
each failure so the outbox can decide when to try again, and the base URL comes from `SLACK_API_URL` so
tests point it at a fake server.
"""

from __future__ import annotations

import json
import urllib.error
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import structlog
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler

log = structlog.get_logger(__name__)


class Failure(StrEnum):
    rate_limited = "rate_limited"  # wait Retry-After, then try again
    retryable = "retryable"  # Slack or the network had a bad moment: back off and try again
    needs_person = "needs_person"  # the bot was removed, the channel archived, the token revoked...
    permanent = "permanent"  # our request is wrong: retrying cannot help


# Errors that only a person can mend (invite the bot again, reinstall the app, fix the protocol file).
NEEDS_PERSON = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "channel_is_archived",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "missing_scope",
        "no_permission",
        "restricted_action",
        "ekm_access_denied",
        "team_access_not_granted",
    }
)
RETRYABLE = frozenset({"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"})


@dataclass
class SlackCallError(Exception):
    method: str
    failure: Failure
    error: str
    retry_after: float | None = None

    def __str__(self) -> str:
        return f"{self.method}: {self.error} ({self.failure})"


class SlackGateway:
    def __init__(self, *, token: str | None, base_url: str, timeout: float = 10.0):
        # Connection errors are retried once inside the SDK (cheap and immediate); rate limits are not,
        # because the SDK would sleep in this thread: the outbox schedules them instead.
        self.client = WebClient(
            token=token,
            base_url=base_url,
            timeout=max(1, int(timeout)),
            retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=1)],
        )

    def call(self, method: str, **args: Any) -> dict[str, Any]:
        """Call a Web API method; return Slack's answer or raise `SlackCallError`."""
        try:
            fn = getattr(self.client, method.replace(".", "_"))
            response = fn(**args)
            return dict(response.data) if isinstance(response.data, dict) else {}
        except SlackApiError as exc:
            raise self._classify(method, exc) from None
        except (TimeoutError, urllib.error.URLError, ConnectionError, SlackRequestError) as exc:
            raise SlackCallError(method, Failure.retryable, type(exc).__name__) from None

    @staticmethod
    def _classify(method: str, exc: SlackApiError) -> SlackCallError:
        status = exc.response.status_code
        data = exc.response.data if isinstance(exc.response.data, dict) else {}
        error = str(data.get("error") or f"http_{status}")
        if status == 429 or error == "ratelimited":
            raw = (exc.response.headers or {}).get("Retry-After") or (exc.response.headers or {}).get("retry-after")
            if isinstance(raw, list):
                raw = raw[0] if raw else None
            try:
                retry_after = float(raw) if raw is not None else None
            except ValueError:
                retry_after = None
            return SlackCallError(method, Failure.rate_limited, "ratelimited", retry_after)
        if status >= 500 or error in RETRYABLE:
            return SlackCallError(method, Failure.retryable, error)
        if error in NEEDS_PERSON:
            return SlackCallError(method, Failure.needs_person, error)
        detail = data.get("response_metadata", {}).get("messages") if isinstance(data, dict) else None
        log.warning("slack_call_refused", method=method, error=error, detail=json.dumps(detail)[:300])
        return SlackCallError(method, Failure.permanent, error)
