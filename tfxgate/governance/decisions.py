"""What has already been decided about one model at one destination, whichever run asked.

Decisions bind to the model, not to the run that left it pending: the model is
its content fingerprint (`fingerprint.model_fingerprint`, written on each
record as `model_fingerprint`), with the Model artifact id for records that
carry none. So an unchanged rerun whose Trainer is served from cache — same
artifact, or a new artifact with the same files — meets the rejection of the
first run; a model trained on new data or code has a new fingerprint and is
judged afresh. Read by governance/store.py (approve, reject, reopen, history)
and by the run summary (a pending model already rejected reads "rejected").
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Iterable, Optional

from tfxgate.governance import publish
from tfxgate.governance.fingerprint import model_fingerprint
from tfxgate.mlmd import audit
from tfxgate.storage import filesystem


@dataclass(frozen=True)
class Model:
    """A Model artifact as decisions see it: its id, content fingerprint and when it was trained."""

    id: int
    fingerprint: str  # "" when its files are gone and no record carried it
    created: int  # ms since the epoch: MLMD's create time, or the run's time for a model registered later
    uri: str

    @property
    def name(self) -> str:
        """How every command names a model: `model 20 (3f1c2a9b07de)`."""
        return model_name(self.id, self.fingerprint)

    @property
    def trained_at(self) -> str:
        """When it was trained (its artifact's create time), ISO-8601 UTC to the millisecond."""
        moment = datetime.datetime.fromtimestamp(self.created / 1000, tz=datetime.timezone.utc)
        return moment.isoformat(timespec="milliseconds")

    def older_than(self, other: Model) -> bool:
        """Trained before `other` (create time, then artifact id: ids grow with time in one store).

        Training time, not the span it was trained on: a model retrained today on
        a corrected older span (a backfill) is the newest model, and one trained
        last week on the newest span is older than it.
        """
        return (self.created, self.id) < (other.created, other.id)


def model_name(model_id: Optional[int], fingerprint: str = "") -> str:
    """`model 20 (3f1c2a9b07de)`: the Model artifact id, and the fingerprint's first 12 hex digits when known."""
    if model_id is None:
        return "model ?"
    return f"model {model_id} ({short(fingerprint)})" if fingerprint else f"model {model_id}"


def short(fingerprint: str) -> str:
    return fingerprint.split(":", 1)[-1][:12]


class Book:
    """A pipeline's governance records and the models they name, read once per command."""

    def __init__(self, store, pipeline: str):
        self.store = store
        self.records = audit.records(store, pipeline=pipeline)
        self._models: dict[int, Optional[Model]] = {}

    def model(self, model_id: Optional[int]) -> Optional[Model]:
        """The Model artifact `model_id`, its fingerprint from a record or else from its files."""
        if model_id is None:
            return None
        if model_id not in self._models:
            found = self.store.get_artifacts_by_id([model_id])
            if not found:
                self._models[model_id] = None
            else:
                [artifact] = found
                recorded = next((r.model_fingerprint for r in self.records if r.model_id == model_id), "")
                source = publish.serving_dir(artifact.uri)
                fingerprint = recorded or (model_fingerprint(source) if filesystem.is_dir(source) else "")
                self._models[model_id] = Model(model_id, fingerprint, audit.model_created_ms(artifact), artifact.uri)
        return self._models[model_id]

    def is_model(self, record: audit.Record, model: Model) -> bool:
        """Whether `record` is about `model`: same fingerprint, or (no fingerprint) same artifact."""
        if record.model_id == model.id:
            return True
        fingerprint = record.model_fingerprint or (self.model(record.model_id).fingerprint if record.model_id else "")
        return bool(fingerprint) and fingerprint == model.fingerprint

    def about(self, model: Model, destination: str, kinds: Iterable[str]) -> list[audit.Record]:
        """This model's records of these kinds at this destination, oldest first."""
        wanted = set(kinds)
        return [
            r for r in self.records if r.kind in wanted and r.destination == destination and self.is_model(r, model)
        ]

    def standing_rejection(self, model: Model, destination: str) -> Optional[audit.Record]:
        """The rejection of this model at this destination that no later `reopen` lifted, if any."""
        verdicts = self.about(model, destination, (audit.REJECTION, audit.REOPEN))
        return verdicts[-1] if verdicts and verdicts[-1].kind == audit.REJECTION else None

    def pushed(self, model: Model, destination: str) -> Optional[audit.Record]:
        """The push that put this model at this destination (a version recovery found gone does not count)."""
        pushes = [r for r in self.about(model, destination, (audit.PUSH,)) if r.state != "failed"]
        return pushes[-1] if pushes else None

    def serving(self, destination: str, version: Optional[str]) -> Optional[audit.Record]:
        """The push record of the version a destination serves, if any."""
        if version is None:
            return None
        pushes = [r for r in self.records if r.kind == audit.PUSH and r.destination == destination]
        found = [r for r in pushes if r.version == version and r.state != "failed"]
        return found[-1] if found else None

    def superseded_by(self, pending: audit.Record) -> Optional[audit.Record]:
        """The first later push (else approval), at the pending record's destination, of a newer model."""
        mine = self.model(pending.model_id)
        if mine is None:
            return None
        for kind in (audit.PUSH, audit.APPROVAL):
            for r in self.records:
                if r.kind != kind or r.id <= pending.id or r.destination != pending.destination:
                    continue
                other = None if self.is_model(r, mine) else self.model(r.model_id)
                if other is not None and mine.older_than(other):
                    return r
        return None

    def state(self, pending: audit.Record) -> str:
        """A PendingApproval in words: waiting, pushed, rejected, or superseded (with by whom / what)."""
        model = self.model(pending.model_id)
        if model is not None:
            push = self.pushed(model, pending.destination)
            if push is not None:
                return f"pushed as version {push.version} (run {push.run_id})"
            rejection = self.standing_rejection(model, pending.destination)
            if rejection is not None:
                return f"rejected by {rejection.by} at {rejection.at} ({rejection.reason!r})"
        newer = self.superseded_by(pending)
        if newer is not None:
            what = f"pushed as version {newer.version}" if newer.kind == audit.PUSH else "approved"
            return f"superseded: {model_name(newer.model_id, self.fingerprint(newer))} {what} at {newer.at}"
        return "waiting"

    def fingerprint(self, record: audit.Record) -> str:
        if record.model_fingerprint:
            return record.model_fingerprint
        model = self.model(record.model_id)
        return model.fingerprint if model else ""
