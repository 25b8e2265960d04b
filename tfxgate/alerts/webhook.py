"""The generic webhook sink: the alert as JSON, POSTed to a URL.

The body is `Alert.payload()` (event, pipeline, run_id, status, reason,
destination, model_id, version, command, details, at). With `token_env`, the
token goes in `Authorization: Bearer <token>`. `post_json` is also what the
Slack sink sends with. Stdlib only (`urllib`).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Optional

import tfxgate
from tfxgate.alerts.events import Alert
from tfxgate.alerts.secrets import secret, url_of
from tfxgate.alerts.settings import WebhookSink


class Refused(Exception):
    """The receiver answered, and said no (an HTTP 4xx other than 408/429): trying again will not help."""


def send(sink: WebhookSink, alert: Alert, *, name: str, timeout: float) -> None:
    token = secret(sink.token_env, key=f"alerts.sinks.{name}.token_env") if sink.token_env else None
    post_json(url_of(sink, name=name), alert.payload(), timeout=timeout, token=token)


def post_json(url: str, document: dict, *, timeout: float, token: Optional[str] = None) -> None:
    """POSTs `document` as JSON; raises for anything but a 2xx answer (`Refused` when retrying is pointless)."""
    headers = {"Content-Type": "application/json", "User-Agent": f"tfxgate/{tfxgate.__version__}"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=json.dumps(document).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as err:
        if 400 <= err.code < 500 and err.code not in (408, 429):
            raise Refused(f"HTTP {err.code} {err.reason} from {_safe(url)}") from err
        raise


def _safe(url: str) -> str:
    """The URL without its path: a Slack-style webhook URL is itself the secret."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"
