"""One reader per artifact payload: schema, statistics, anomalies, drift report, evaluation, blessing, push record.

ML Metadata holds properties and URIs; the numbers a reviewer wants live in
the artifact directories, in the layouts the producing components write. Each
module reads one kind of artifact into a small dataclass or plain dict and
tolerates missing files (an artifact whose files were cleaned up still
appears in the lineage, with what ML Metadata knows about it). The run
summary, the run report, the lineage and the model card all call these.
"""
