"""Secrets of a sink, read from the environment when an alert is sent (never from the YAML)."""

from __future__ import annotations

import os
from typing import Union

from tfxgate.alerts.settings import SlackSink, WebhookSink


class MissingSecret(Exception):
    """A sink names an environment variable that is not set: no try can succeed."""


def secret(variable: str, *, key: str) -> str:
    found = os.environ.get(variable)
    if not found:
        raise MissingSecret(f"{key}: environment variable {variable} is not set")
    return found


def url_of(sink: Union[WebhookSink, SlackSink], *, name: str) -> str:
    return sink.url or secret(sink.url_env, key=f"alerts.sinks.{name}.url_env")
