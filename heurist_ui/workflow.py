"""Heurist's workflow API (video, FLUX with LoRAs): create a task once, poll it, cancel it.

The calls go through HeuristClient's session (its pool, retries on refusals only, and the
deadline watchdog), so the image client stays the one place that talks to Heurist. The key
travels in the body, as the workflow host wants it: consumer_id and api_key, the halves of
user_id#api_key. A created task may be billed, so nothing here ever creates a second one for
the same request: a broken answer, a timeout or a dropped connection ends the request.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import requests

from .client import HeuristClient, check_key
from .deadline import Deadline
from .errors import (
    APIConnectionError,
    APITimeoutError,
    HeuristError,
    UnexpectedResponseError,
    error_from_status,
    redact,
)

log = logging.getLogger(__name__)

CALL_TIMEOUT = (5.0, 60.0)  # connect, read: Heurist's SDK gives each call 60 s
DEFAULT_POLL_INTERVAL = 3.0  # seconds; Heurist's docs poll every 3 s (FLUX-LoRA) to 15 s (video)
DEFAULT_TASK_TIMEOUT = 600.0  # seconds; the docs' 10 minutes
JOB_ID_PREFIX = "heurist-ui-workflow-"
FINAL_STATUSES = frozenset({"finished", "failed", "canceled"})
KNOWN_STATUSES = frozenset({"waiting", "running", *FINAL_STATUSES})


class TaskFailedError(HeuristError):
    """The workflow task ended `failed` on Heurist's side."""


class TaskCanceledError(HeuristError):
    """The task was canceled (by Stop, Ctrl+C, or on Heurist's side)."""


@dataclass(frozen=True)
class TaskStatus:
    """Where a task is: waiting (with its place in the queue), running, or ended."""

    task_id: str
    status: str
    queue_position: int | None
    elapsed_s: float

    def describe(self) -> str:
        """One line for a progress display: 'Waiting, 3rd in the queue · 12 s'."""
        seconds = f"{self.elapsed_s:.0f} s"
        if self.status == "waiting":
            place = f", number {self.queue_position} in the queue" if self.queue_position else ""
            return f"Waiting{place} · {seconds}"
        if self.status == "running":
            return f"Running · {seconds}"
        return f"{self.status.capitalize()} · {seconds}"


@dataclass(frozen=True)
class TaskResult:
    """A finished task: where its output is, and how long it took."""

    task_id: str
    job_id: str
    url: str
    elapsed_s: float


def split_key(key: str) -> tuple[str, str]:
    """consumer_id and api_key from user_id#api_key (or user_id-api_key, as the SDK allows)."""
    user, sep, secret = key.partition("#")
    if not sep:
        user, sep, secret = key.partition("-")
    if not sep or not user or not secret:
        raise HeuristError(
            "The workflow API needs a key of the form user_id#api_key. Check HEURIST_API_KEY "
            "or paste your key again."
        )
    return user, secret


def new_job_id() -> str:
    """A job id unique to one task."""
    return f"{JOB_ID_PREFIX}{uuid.uuid4().hex[:16]}"


class WorkflowClient:
    """Runs workflow tasks at settings.workflow_url through a HeuristClient's session."""

    def __init__(
        self,
        client: HeuristClient,
        *,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        task_timeout: float = DEFAULT_TASK_TIMEOUT,
        call_timeout: tuple[float, float] = CALL_TIMEOUT,
    ) -> None:
        self.client = client
        self.poll_interval = poll_interval
        self.task_timeout = task_timeout
        self.call_timeout = call_timeout

    @property
    def base_url(self) -> str:
        return self.client.settings.workflow_url

    def run(
        self,
        task_type: str,
        workflow_id: str,
        parameters: dict[str, Any],
        api_key: str | None = None,
        *,
        on_status: Callable[[TaskStatus], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> TaskResult:
        """Create one task and wait for its output URL; raises HeuristError.

        on_status hears each status as polled; setting cancel cancels the task (task_cancel)
        and raises TaskCanceledError. Past task_timeout the task is canceled too.
        """
        key = check_key(api_key or self.client.settings.api_key)
        consumer_id, secret = split_key(key)
        cancel = cancel or threading.Event()
        job_id = new_job_id()
        started = time.monotonic()
        body = {
            "consumer_id": consumer_id,
            "api_key": secret,
            "task_type": task_type,
            "task_details": {"parameters": parameters},
            "job_id": job_id,
            "workflow_id": workflow_id,
            "timeout_seconds": int(self.task_timeout),
        }
        log.info("Creating %s task %s (workflow %s)", task_type, job_id, workflow_id)
        answer = self._call("task_create", body, key, created=False)
        task_id = answer.get("task_id") if isinstance(answer, dict) else None
        if not isinstance(task_id, str) or not task_id:
            raise UnexpectedResponseError(
                "Heurist's workflow API answered something unexpected instead of a task id. The "
                "task may still have been created (and billed), so it was not created again. "
                "Check your Heurist account's usage before trying again."
            )
        while True:
            elapsed = time.monotonic() - started
            if cancel.is_set():
                self.cancel(task_id, key)
                raise TaskCanceledError("The task was stopped and canceled on Heurist's side.")
            if elapsed > self.task_timeout:
                self.cancel(task_id, key)
                raise APITimeoutError(
                    f"The task did not finish within {self.task_timeout:g} s, so it was "
                    "canceled. Heurist may be busy: try again later."
                )
            status = self._query(task_id, key, started)
            if status is not None:
                if on_status is not None:
                    on_status(status[0])
                if status[0].status == "finished":
                    return TaskResult(task_id, job_id, status[1], status[0].elapsed_s)
            cancel.wait(self.poll_interval)

    def _query(self, task_id: str, key: str, started: float) -> tuple[TaskStatus, str] | None:
        """The task's status and result; None when this poll failed in a way worth retrying."""
        _, secret = split_key(key)
        try:
            answer = self._call("task_result_query", {"task_id": task_id, "api_key": secret}, key)
        except (APIConnectionError, UnexpectedResponseError) as error:
            log.warning("Polling task %s failed, polling again: %s", task_id, error)
            return None
        except HeuristError as error:
            if error.status_code is not None and error.status_code >= 500:
                log.warning("Polling task %s failed, polling again: %s", task_id, error)
                return None
            raise
        status = answer.get("status") if isinstance(answer, dict) else None
        if status not in KNOWN_STATUSES:
            log.warning("Task %s: unknown status %r, polling again", task_id, str(status)[:40])
            return None
        position = answer.get("queue_position")
        task = TaskStatus(
            task_id,
            status,
            position if isinstance(position, int) and not isinstance(position, bool) else None,
            round(time.monotonic() - started, 3),
        )
        if status == "failed":
            msg = " ".join(redact(str(answer.get("msg") or ""), key).split())[:200]
            said = f" Heurist said: {msg}" if msg else ""
            raise TaskFailedError(
                f"The task failed on Heurist's side.{said} Try again; if it keeps failing, "
                "try another prompt or model."
            )
        if status == "canceled":
            raise TaskCanceledError(
                "The task was canceled on Heurist's side before it finished. Try again."
            )
        result = answer.get("result")
        if status == "finished" and (not isinstance(result, str) or not result.strip()):
            raise UnexpectedResponseError(
                "The task finished without a link to its output. Try again; if it keeps "
                "happening, the workflow API may have changed."
            )
        return task, (result.strip() if isinstance(result, str) else "")

    def cancel(self, task_id: str, api_key: str | None = None) -> None:
        """Ask Heurist to cancel a task; failures are logged, not raised (it is a courtesy)."""
        key = check_key(api_key or self.client.settings.api_key)
        _, secret = split_key(key)
        try:
            self._call("task_cancel", {"task_id": task_id, "api_key": secret}, key)
            log.info("Canceled task %s", task_id)
        except HeuristError as error:
            log.warning("Could not cancel task %s: %s", task_id, error)

    def _call(self, endpoint: str, body: dict[str, Any], key: str, created: bool = True) -> Any:
        """POST one workflow call; the JSON answer, or a HeuristError with the key redacted."""
        host = urlparse(self.base_url).netloc
        deadline = Deadline(self.call_timeout[1] + 1.0, per_request=True)
        try:
            with deadline:
                response = self.client.session.post(
                    f"{self.base_url}/{endpoint}", json=body, timeout=self.call_timeout
                )
        except requests.exceptions.ConnectionError as exc:
            if isinstance(exc, requests.exceptions.ConnectTimeout) or "refused" in repr(exc):
                raise APIConnectionError(
                    f"Could not reach Heurist's workflow API at {host}. Check your internet "
                    "connection and HEURIST_WORKFLOW_URL, then try again."
                ) from None
            raise self._lost(host, created) from None
        except requests.exceptions.RequestException:
            raise self._lost(host, created) from None
        if response.status_code >= 400:
            raise error_from_status(response.status_code, response.text, api_key=key)
        try:
            return json.loads(response.text)
        except ValueError:
            return None

    @staticmethod
    def _lost(host: str, created: bool) -> HeuristError:
        if created:
            return APIConnectionError(f"Heurist's workflow API at {host} did not answer.")
        return APITimeoutError(
            f"Heurist's workflow API at {host} did not answer in time. The task may still have "
            "been created (and billed), so it was not created again. Check your Heurist "
            "account's usage before trying again."
        )
