"""The one HTTP layer every source uses: retries with backoff, rate-limit waits, clear errors."""

from __future__ import annotations

import logging
import random
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import orjson
import requests

from .settings import load as load_settings

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")

RETRYABLE_STATUS = {429, 500, 502, 503, 504}
# A server asking for longer than this is treated as broken, not obeyed (a night is finite).
MAX_RETRY_AFTER_SECONDS = 300.0


class SourceError(RuntimeError):
    """A source call failed for good; the message names the source, endpoint and the cause."""


class AuthenticationError(SourceError):
    """The credentials were refused: fix the named Airflow connection."""


def parse_json(response: requests.Response) -> Any:
    """The response body as JSON (orjson: pages of records are parsed several times faster)."""
    return orjson.loads(response.content)


def fetch_in_order(fetch: Callable[[T], R], items: Iterable[T], in_flight: int) -> Iterator[R]:
    """``fetch(item)`` for each item, up to ``in_flight`` at once, yielded in the items' order.

    While the caller works on one answer, the next ones are already being served: the API's
    time and ours overlap instead of taking turns. At most ``in_flight`` answers wait in memory.
    The first error is raised here and the requests not yet started are cancelled.
    """
    if in_flight <= 1:
        yield from map(fetch, items)
        return
    pool = ThreadPoolExecutor(in_flight, thread_name_prefix="fetch")
    pending: deque[Future[R]] = deque()
    try:
        for item in items:
            pending.append(pool.submit(fetch, item))
            if len(pending) >= in_flight:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _body_excerpt(response: requests.Response, limit: int = 500) -> str:
    text = response.text or ""
    return text[:limit] + ("..." if len(text) > limit else "")


class RateLimiter:
    """At most ``max_calls`` requests in any rolling window of ``window_seconds`` (the shape of
    HubSpot's ten-secondly limit), waiting as long as needed rather than being refused.

    Calls are counted from when their answer arrived, which is never earlier than when the
    server counted them, so client and server windows cannot disagree."""

    def __init__(self, max_calls: int, window_seconds: float):
        if max_calls < 1 or window_seconds <= 0:
            raise ValueError("a rate limit needs max_calls >= 1 and window_seconds > 0")
        self.max_calls = max_calls
        self.window_seconds = window_seconds
        self._sent: deque[float] = deque()

    def acquire(self) -> None:
        """Wait until one more call fits in the window."""
        now = time.monotonic()
        while self._sent and now - self._sent[0] >= self.window_seconds:
            self._sent.popleft()
        if len(self._sent) >= self.max_calls:
            time.sleep(self.window_seconds - (now - self._sent[0]))
            self._sent.popleft()

    def record(self) -> None:
        """Count a call whose answer has just arrived."""
        self._sent.append(time.monotonic())


class HttpClient:
    """A requests session bound to one source's base URL and Airflow connection.

    Args:
        source: human name used in error messages ("HubSpot CRM").
        base_url: scheme, host and optional path prefix of the API.
        conn_id: the Airflow connection holding the credentials, named in auth errors.
        headers: sent on every request (auth headers included; never logged).
        is_auth_failure: recognises vendors that report bad credentials without a 401/403.
        is_throttled: recognises vendors that refuse for rate or load with another status than
            429/5xx (Meta answers HTTP 400 with code 17); such answers are retried.
    """

    def __init__(
        self,
        source: str,
        base_url: str,
        conn_id: str,
        headers: dict[str, str] | None = None,
        *,
        max_attempts: int = 6,
        backoff_seconds: float | None = None,
        max_backoff_seconds: float = 30.0,
        timeout: tuple[float, float] | None = None,
        is_auth_failure: Callable[[requests.Response], bool] | None = None,
        rate_limiter: RateLimiter | None = None,
        is_throttled: Callable[[requests.Response], bool] | None = None,
    ):
        self.source = source
        self.base_url = base_url.rstrip("/")
        self.conn_id = conn_id
        settings = load_settings()
        self.max_attempts = max_attempts
        self.backoff_seconds = (
            settings.http_backoff_seconds if backoff_seconds is None else backoff_seconds
        )
        self.max_backoff_seconds = max_backoff_seconds
        self.timeout = timeout or (10.0, settings.http_read_timeout_seconds)
        self.is_auth_failure = is_auth_failure or (lambda response: False)
        self.is_throttled = is_throttled or (lambda response: False)
        self.session = requests.Session()
        self.session.headers.update(headers or {})
        self.calls = 0
        self.rate_limiter = rate_limiter

    def request(
        self, method: str, path: str, *, expected: frozenset[int] = frozenset(), **kwargs: Any
    ) -> requests.Response:
        """Send a request, retrying what is worth retrying; return the successful response.

        Args:
            method: HTTP method.
            path: path below the base URL (or a full URL).
            expected: error statuses that are an answer, not a failure (e.g. 404 for "missing").
            kwargs: passed to requests.
        """
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        endpoint = f"{method} {url.split('?')[0]}"
        last_error = "no attempt made"
        for attempt in range(1, self.max_attempts + 1):
            if self.rate_limiter is not None:
                self.rate_limiter.acquire()
            self.calls += 1
            try:
                response = self.session.request(method, url, timeout=self.timeout, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as exc:
                self._record_call()
                last_error = f"{type(exc).__name__}: {exc}"
                self._sleep_before_retry(attempt, None, endpoint, last_error)
                continue
            self._record_call()
            if response.status_code in (401, 403) or self.is_auth_failure(response):
                raise AuthenticationError(
                    f"{self.source} refused the credentials ({endpoint} answered "
                    f"{response.status_code}: {_body_excerpt(response)}). Fix the Airflow "
                    f"connection '{self.conn_id}'."
                )
            if response.status_code in RETRYABLE_STATUS or self.is_throttled(response):
                last_error = f"HTTP {response.status_code}: {_body_excerpt(response, 200)}"
                self._sleep_before_retry(attempt, response, endpoint, last_error)
                continue
            if response.status_code >= 400 and response.status_code not in expected:
                raise SourceError(
                    f"{self.source} rejected {endpoint} with HTTP {response.status_code}: "
                    f"{_body_excerpt(response)}"
                )
            return response
        raise SourceError(
            f"{self.source} failed after {self.max_attempts} attempts at {endpoint}; "
            f"last error: {last_error}"
        )

    def _record_call(self) -> None:
        if self.rate_limiter is not None:
            self.rate_limiter.record()

    def get_json(self, path: str, **kwargs: Any) -> Any:
        return parse_json(self.request("GET", path, **kwargs))

    def post_json(self, path: str, body: Any, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, json=body, **kwargs)

    def _sleep_before_retry(
        self, attempt: int, response: requests.Response | None, endpoint: str, error: str
    ) -> None:
        if attempt >= self.max_attempts:
            return
        delay = self._retry_after(response)
        if delay is None:
            # Exponential backoff with full jitter, bounded.
            ceiling = min(self.max_backoff_seconds, self.backoff_seconds * 2 ** (attempt - 1))
            delay = random.uniform(ceiling / 2, ceiling)
        log.warning(
            "%s: %s failed (%s); retry %d in %.1fs", self.source, endpoint, error, attempt, delay
        )
        time.sleep(delay)

    @staticmethod
    def _retry_after(response: requests.Response | None) -> float | None:
        """How long the server asked us to wait: Retry-After (seconds or an HTTP date), or
        HubSpot's rate-limit headers when its window is used up."""
        if response is None:
            return None
        value = response.headers.get("Retry-After")
        if value is not None:
            try:
                return min(MAX_RETRY_AFTER_SECONDS, max(0.0, float(value)))
            except ValueError:
                pass
            try:
                moment = parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return None
            return min(MAX_RETRY_AFTER_SECONDS, max(0.0, moment.timestamp() - time.time()))
        if (
            response.status_code == 429
            and response.headers.get("X-HubSpot-RateLimit-Remaining") == "0"
            and response.headers.get("X-HubSpot-RateLimit-Interval-Milliseconds", "").isdigit()
        ):
            return int(response.headers["X-HubSpot-RateLimit-Interval-Milliseconds"]) / 1000
        return None
