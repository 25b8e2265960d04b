"""The `alerts:` section: where tfxgate tells people that something needs them.

Sinks are named and chosen by `kind` (a discriminated union, so an error names
the key the user wrote, e.g. `alerts.sinks.oncall.port`):

- `webhook`: a JSON POST of the alert (tfxgate/alerts/webhook.py);
- `slack`: a Slack-compatible incoming webhook, `{"text": ...}` (slack.py);
- `email`: a message over SMTP, STARTTLS optional (mail.py).

Secrets are never written in the YAML: `url_env`, `token_env` and `password_env`
name the environment variables that hold them, read only when an alert is sent.
`unset_variables` lists the ones missing here, for `tfxgate check` to report.

This module imports nothing heavy (`tfxgate check` stays fast).
"""

from __future__ import annotations

import os
import re
from typing import Annotated, Literal, Optional

from pydantic import (
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from tfxgate.alerts.events import EVENTS
from tfxgate.settings import Section, by_kind

ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
SINK_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
ADDRESS_PATTERN = r"^[^@\s]+@[^@\s]+$"
EnvName = Annotated[str, Field(pattern=ENV_NAME_PATTERN)]


class _Sink(Section):
    events: Optional[list[str]] = Field(
        default=None, min_length=1, description="Events this sink receives (default: every event)."
    )

    @field_validator("events")
    @classmethod
    def _known_events(cls, events: Optional[list[str]]) -> Optional[list[str]]:
        for event in events or []:
            if event not in EVENTS:
                raise ValueError(f"unknown event {event!r} (known: {', '.join(EVENTS)})")
        return events

    def wants(self, event: str) -> bool:
        return self.events is None or event in self.events

    def secrets(self) -> dict[str, Optional[str]]:
        """key -> the environment variable this sink reads (None: not configured)."""
        return {}


class _HttpSink(_Sink):
    url: Optional[str] = Field(default=None, description="The webhook URL (http:// or https://).")
    url_env: Optional[EnvName] = Field(
        default=None, description="Environment variable holding the URL, when the URL itself is a secret."
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: Optional[str]) -> Optional[str]:
        if url is not None and not re.match(r"^https?://[^/\s]+", url):
            raise ValueError(f"not an http:// or https:// URL: {url!r}")
        return url

    @model_validator(mode="after")
    def _one_url(self) -> _HttpSink:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("set either url or url_env (the environment variable holding the URL)")
        return self

    def secrets(self) -> dict[str, Optional[str]]:
        return {"url_env": self.url_env}


class WebhookSink(_HttpSink):
    kind: Literal["webhook"]
    token_env: Optional[EnvName] = Field(
        default=None, description="Environment variable holding a token, sent as `Authorization: Bearer <token>`."
    )

    def secrets(self) -> dict[str, Optional[str]]:
        return {**super().secrets(), "token_env": self.token_env}


class SlackSink(_HttpSink):
    kind: Literal["slack"]


class EmailSink(_Sink):
    kind: Literal["email"]
    host: str = Field(min_length=1)
    port: int = Field(default=25, ge=1, le=65535)
    sender: str = Field(alias="from", pattern=ADDRESS_PATTERN, description="The From: address.")
    to: list[Annotated[str, Field(pattern=ADDRESS_PATTERN)]] = Field(min_length=1)
    starttls: bool = Field(default=False, description="Upgrade the connection with STARTTLS before logging in.")
    user: Optional[str] = Field(default=None, min_length=1, description="SMTP login; omit for none.")
    password_env: Optional[EnvName] = Field(default=None, description="Environment variable holding the password.")

    model_config = ConfigDict(populate_by_name=True)  # merged with Section's: extra="forbid", frozen

    @model_validator(mode="after")
    def _password_needs_user(self) -> EmailSink:
        if self.password_env is not None and self.user is None:
            raise ValueError("password_env needs user (the SMTP login)")
        return self

    def secrets(self) -> dict[str, Optional[str]]:
        return {"password_env": self.password_env}


KINDS = {"webhook": WebhookSink, "slack": SlackSink, "email": EmailSink}


Sink = by_kind(KINDS, what="sink")


class AlertsSection(Section):
    """Sinks by name, and how hard to try each one."""

    sinks: dict[Annotated[str, Field(pattern=SINK_NAME_PATTERN)], Sink] = Field(default_factory=dict)
    tries: int = Field(default=3, ge=1, le=10, description="Attempts per alert and sink before giving up.")
    backoff_seconds: float = Field(
        default=1.0, ge=0, le=60, description="Wait before the second try; doubled before each later one."
    )
    timeout_seconds: float = Field(default=10.0, gt=0, le=300, description="Per attempt: connect and send.")


def unset_variables(section: AlertsSection) -> list[tuple[str, str]]:
    """(key, variable) for every secret a sink names whose environment variable is not set here."""
    return [
        (f"alerts.sinks.{name}.{key}", variable)
        for name, sink in section.sinks.items()
        for key, variable in sink.secrets().items()
        if variable is not None and not os.environ.get(variable)
    ]
