"""Alerts: telling people when a run is blocked or failed, waits for approval, or was rolled back.

Sinks are declared in the config's `alerts:` section (settings.py): a generic JSON
webhook (webhook.py), a Slack-compatible webhook (slack.py), e-mail over SMTP
(mail.py). events.py names the events and words an alert; runs.py builds a run's
and a rollback's alerts; dispatch.py sends them with retries and records each
delivery. The CLI calls it where a run ends and after `tfxgate rollback`.

Layering: above `governance` (it reads governance records and run summaries),
below `components`; nothing in the core below calls it.
"""
