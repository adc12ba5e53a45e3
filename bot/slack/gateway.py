"""The one door to Slack: the only module that holds a `WebClient`.

It never sleeps and never retries rate limits itself (that would block the calling thread): it classifies
each failure so the outbox can decide when to try again, and the base URL comes from `SLACK_API_URL` so
tests point it at a fake server. Every call is bounded by a short timeout (`VIGIE_SLACK_TIMEOUT`, 10 s).
"""

from __future__ import annotations

import http.client
import json
import urllib.error
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

import structlog
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError, SlackRequestError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler

log = structlog.get_logger(__name__)


class Failure(StrEnum):
    rate_limited = "rate_limited"  # wait Retry-After, then try again
    retryable = "retryable"  # Slack or the network had a bad moment: back off and try again
    needs_person = "needs_person"  # the bot was removed, the channel archived, the token revoked...
    permanent = "permanent"  # our request is wrong: retrying cannot help


# Errors that only a person can mend (invite the bot again, reinstall the app, fix the protocol file).
# Two families say more than "this call failed", and the outbox holds rows instead of failing them:
# a channel that refuses the bot refuses every message for it; a refused token refuses every call.
CHANNEL_UNAVAILABLE = frozenset({"channel_not_found", "not_in_channel", "is_archived", "channel_is_archived"})
TOKEN_REFUSED = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"})
NEEDS_PERSON = CHANNEL_UNAVAILABLE | TOKEN_REFUSED | frozenset(
    {
        "missing_scope",
        "no_permission",
        "restricted_action",
        "ekm_access_denied",
        "team_access_not_granted",
    }
)
RETRYABLE = frozenset({"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"})
# Slack's documentation of these two: "it's possible some aspect of the operation succeeded".
MAYBE_DONE = frozenset({"internal_error", "fatal_error"})
# No answer at all, though the request was sent: Slack may even still be working on it.
NO_ANSWER = frozenset({"timeout", "connection_lost"})


@dataclass
class SlackCallError(Exception):
    method: str
    failure: Failure
    error: str
    retry_after: float | None = None
    # Slack may have carried the call out although no answer came back (a timeout, a connection lost after
    # the request was sent, a 5xx): a post must be looked for before it is sent again.
    in_doubt: bool = False
    needed: str | None = None  # the scope Slack names with missing_scope (set by upload_file)

    def __str__(self) -> str:
        return f"{self.method}: {self.error} ({self.failure})"


class SlackGateway:
    def __init__(self, *, token: str | None, base_url: str, timeout: float = 10.0):
        self.timeout = max(1, int(timeout))
        # A request that could not be sent (urllib raises URLError while connecting or sending) is retried once
        # inside the SDK: cheap, immediate, and Slack never saw it. A connection lost *after* sending is not
        # (the SDK's default list includes it): Slack may have posted, and a blind retry would post twice; the
        # outbox looks first. Rate limits are not retried here either: the SDK would sleep in this thread.
        self.client = WebClient(
            token=token,
            base_url=base_url,
            timeout=self.timeout,
            retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=1, error_types=[urllib.error.URLError])],
        )

    def call(self, method: str, **args: Any) -> dict[str, Any]:
        """Call a Web API method; return Slack's answer or raise `SlackCallError`."""
        try:
            fn = getattr(self.client, method.replace(".", "_"))
            response = fn(**args)
            return dict(response.data) if isinstance(response.data, dict) else {}
        except SlackApiError as exc:
            raise self._classify(method, exc) from None
        except TimeoutError:  # no answer within the timeout: Slack may still have done it
            raise SlackCallError(method, Failure.retryable, "timeout", in_doubt=True) from None
        except urllib.error.URLError as exc:  # connecting or sending failed: Slack never got the request
            raise SlackCallError(method, Failure.retryable, f"connection_failed: {exc.reason}"[:100]) from None
        except (OSError, http.client.HTTPException) as exc:  # lost after sending (reset, closed): in doubt
            log.info("slack_connection_lost", method=method, error=type(exc).__name__)
            raise SlackCallError(method, Failure.retryable, "connection_lost", in_doubt=True) from None
        except SlackRequestError as exc:
            raise SlackCallError(method, Failure.retryable, type(exc).__name__) from None

    def upload_file(self, *, channel: str, content: bytes, filename: str, title: str,
                    thread_ts: str | None = None, alt_text: str | None = None) -> str:
        """Share `content` as a file in `channel` (a conversation ID: files.completeUploadExternal takes no #name),
        optionally in a thread; return the file's ID or raise `SlackCallError`. Needs the bot scope files:write.

        slack_sdk's files_upload_v2 makes three requests: files.getUploadURLExternal, a POST of the bytes to the
        pre-signed URL it returns, files.completeUploadExternal. A refusal is classified like any call's, under
        the name of the method that refused; any other failure is reported by its exception's type alone,
        because its message may carry the pre-signed upload URL.
        """
        method = "files_upload_v2"
        if not content:  # Slack would refuse it after a round trip
            raise SlackCallError(method, Failure.permanent, "empty_file")
        args: dict[str, Any] = {"channel": channel, "content": content, "filename": filename, "title": title}
        if thread_ts:
            args["thread_ts"] = thread_ts
        if alt_text:
            args["alt_txt"] = alt_text
        try:
            response = self.client.files_upload_v2(**args)
        except SlackApiError as exc:
            data = exc.response.data if isinstance(exc.response.data, dict) else {}
            url = str(getattr(exc.response, "api_url", "") or "")
            refused = self._classify(url.rstrip("/").rsplit("/", 1)[-1] or method, exc)
            raise replace(refused, needed=data.get("needed")) from None
        except TimeoutError as exc:  # no answer within the timeout: Slack may still have done it
            raise SlackCallError(method, Failure.retryable, type(exc).__name__, in_doubt=True) from None
        except urllib.error.URLError as exc:  # HTTPError included: the upload URL answered an error status
            raise SlackCallError(method, Failure.retryable, type(exc).__name__) from None
        except (OSError, http.client.HTTPException) as exc:  # lost after sending (reset, closed): in doubt
            log.info("slack_connection_lost", method=method, error=type(exc).__name__)
            raise SlackCallError(method, Failure.retryable, type(exc).__name__, in_doubt=True) from None
        except SlackClientError as exc:  # SlackRequestError: the SDK refused to send or read the request
            raise SlackCallError(method, Failure.retryable, type(exc).__name__) from None
        except ValueError as exc:  # arguments the SDK refuses before sending
            raise SlackCallError(method, Failure.permanent, type(exc).__name__) from None
        data = response.data if isinstance(response.data, dict) else {}
        file = data.get("file") or next(iter(data.get("files") or []), None) or {}
        file_id = file.get("id") if isinstance(file, dict) else None
        if not file_id:
            raise SlackCallError(method, Failure.permanent, "no_file_id")
        return str(file_id)

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
        if status >= 500:  # Slack had a bad moment, possibly after carrying the call out
            return SlackCallError(method, Failure.retryable, error, in_doubt=True)
        if error in RETRYABLE:
            return SlackCallError(method, Failure.retryable, error, in_doubt=error in MAYBE_DONE)
        if error in NEEDS_PERSON:
            return SlackCallError(method, Failure.needs_person, error)
        detail = data.get("response_metadata", {}).get("messages") if isinstance(data, dict) else None
        log.warning("slack_call_refused", method=method, error=error, detail=json.dumps(detail)[:300])
        return SlackCallError(method, Failure.permanent, error)
