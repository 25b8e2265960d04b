"""The Slack-compatible sink: `{"text": ...}` POSTed to an incoming-webhook URL.

Slack, Mattermost, Rocket.Chat and Microsoft Teams' Slack-compatible connectors
read the same body. The URL is usually the secret: name it with `url_env`.
"""

from __future__ import annotations

from tfxgate.alerts.events import Alert
from tfxgate.alerts.secrets import url_of
from tfxgate.alerts.settings import SlackSink
from tfxgate.alerts.webhook import post_json


def send(sink: SlackSink, alert: Alert, *, name: str, timeout: float) -> None:
    post_json(url_of(sink, name=name), {"text": alert.text()}, timeout=timeout)
