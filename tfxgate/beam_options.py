"""The Beam options of a Beam job a tfxgate stage starts itself (Validate's TFDV statistics, DataDrift's summaries).

One place, so both stages give their workers what TFX's own Beam components
(StatisticsGen, Transform) give theirs: TFX's package is added to the workers'
dependencies unless the flags already name them (`--setup_file`,
`--extra_package`, `--requirements_file`), so a portable or Dataflow worker can
import the stage's code.
"""

from __future__ import annotations

from typing import Iterable


def for_workers(pipeline_args: Iterable[str]):
    """`PipelineOptions` from the runner's flags plus TFX's dependency flags (tfx.utils.dependency_utils)."""
    from apache_beam.options.pipeline_options import PipelineOptions
    from tfx.utils import dependency_utils

    return PipelineOptions(dependency_utils.make_beam_dependency_flags(list(pipeline_args)))
