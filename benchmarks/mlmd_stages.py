"""Per-stage times and cache states of one pipeline run, read from an MLMD SQLite file.

Both sides are measured the same way: an execution's seconds are
`last_update_time_since_epoch - create_time_since_epoch`, its state is what
ML Metadata recorded (complete, cached, ...). Read with `sqlite3` directly so the
harness stays free of TFX imports and cannot perturb the sides it times.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

# ml_metadata.proto.metadata_store_pb2.Execution.State
STATES = {0: "unknown", 1: "new", 2: "running", 3: "complete", 4: "failed", 5: "cached", 6: "canceled"}

_QUERY = """
SELECT node.name, execution.last_known_state, execution.create_time_since_epoch,
       execution.last_update_time_since_epoch, execution_type.name
FROM Execution execution
JOIN Type execution_type ON execution_type.id = execution.type_id
JOIN Association run_link ON run_link.execution_id = execution.id
JOIN Context run ON run.id = run_link.context_id
JOIN Type run_type ON run_type.id = run.type_id AND run_type.name = 'pipeline_run'
JOIN Association node_link ON node_link.execution_id = execution.id
JOIN Context node ON node.id = node_link.context_id
JOIN Type node_type ON node_type.id = node.type_id AND node_type.name = 'node'
WHERE run.name = ?
ORDER BY execution.id
"""


def run_ids(metadata_path: Path) -> list[str]:
    """Pipeline run ids in the store, oldest first."""
    with closing(_connect(metadata_path)) as db:
        rows = db.execute(
            "SELECT c.name FROM Context c JOIN Type t ON t.id = c.type_id WHERE t.name = 'pipeline_run' ORDER BY c.id"
        ).fetchall()
    return [name for (name,) in rows]


def stages_of_run(metadata_path: Path, run_id: str) -> list[dict]:
    """[{node, state, seconds}] for every execution of `run_id`, in execution order.

    Resolver executions are reported as `resolved`: MLMD marks them complete on
    every run, which would read as "re-ran".
    """
    with closing(_connect(metadata_path)) as db:
        rows = db.execute(_QUERY, (run_id,)).fetchall()
    stages = []
    for node, state, created_ms, updated_ms, type_name in rows:
        name = node.split(".", 1)[1] if "." in node else node
        resolver = type_name.endswith(".Resolver")
        stages.append(
            {
                "node": name,
                "state": "resolved" if resolver else STATES.get(state, str(state)),
                "seconds": round((updated_ms - created_ms) / 1000.0, 2),
            }
        )
    return stages


def _connect(metadata_path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{metadata_path}?mode=ro", uri=True)
