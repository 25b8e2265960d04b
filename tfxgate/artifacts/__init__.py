"""One reader per artifact payload (schema, statistics, anomalies, drift report, evaluation, push record)."""
