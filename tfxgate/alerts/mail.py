"""The e-mail sink: one message over SMTP, STARTTLS and login optional.

Subject `Alert.title()`, body `Alert.text()`. With `starttls`, a server that
does not offer STARTTLS is an error (the message is not sent in clear text).
Stdlib only (`smtplib`).
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from tfxgate.alerts.events import Alert
from tfxgate.alerts.secrets import secret
from tfxgate.alerts.settings import EmailSink


def send(sink: EmailSink, alert: Alert, *, name: str, timeout: float) -> None:
    message = EmailMessage()
    message["Subject"] = alert.title()
    message["From"] = sink.sender
    message["To"] = ", ".join(sink.to)
    message.set_content(alert.text())
    password = secret(sink.password_env, key=f"alerts.sinks.{name}.password_env") if sink.password_env else None
    with smtplib.SMTP(sink.host, sink.port, timeout=timeout) as smtp:
        if sink.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if sink.user:
            smtp.login(sink.user, password or "")
        smtp.send_message(message)
