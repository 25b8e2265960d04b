"""The `runner.beam:` section: which Beam runner executes TFX's Beam stages.

`runner` picks the Beam runner (`direct`, `dataflow`, `flink`, `spark`,
`portable`); `direct_running_mode` / `direct_num_workers` tune the
DirectRunner (e.g. `multi_processing` with 2 workers uses 2 cores); `options`
are any other Beam pipeline flags, passed through as written.

Where Beam can tell, a flag the chosen runner does not take is an error at
load: Beam declares its flags in option groups (`DirectOptions`,
`FlinkRunnerOptions`, `WorkerOptions`, ...), so `--flink_master` under
`runner: dataflow`, or a flag no group declares, is refused with the runner
that would take it. Beam is imported only when there are flags to check (it
takes seconds), so the default config still loads fast.
"""

from __future__ import annotations

import functools
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from tfxgate.settings import Section

# Config name -> the runner name Beam's --runner takes.
RUNNERS = {
    "direct": "DirectRunner",
    "dataflow": "DataflowRunner",
    "flink": "FlinkRunner",
    "spark": "SparkRunner",
    "portable": "PortableRunner",
}

# Option groups only one family of runners reads; every other group (standard,
# setup, type checks, file systems, Google Cloud credentials...) goes anywhere.
RUNNER_GROUPS = {
    "DirectOptions": {"direct"},
    "WorkerOptions": {"dataflow"},
    "PortableOptions": {"flink", "spark", "portable"},
    "JobServerOptions": {"flink", "spark", "portable"},
    "FlinkRunnerOptions": {"flink"},
    "SparkRunnerOptions": {"spark"},
}

# Flags the section sets itself from its typed keys.
OWN_FLAGS = {"runner", "direct_running_mode", "direct_num_workers"}

# What a Dataflow job cannot start without (Beam checks these only at submit).
DATAFLOW_REQUIRED = ("project", "region", "temp_location")


class BeamSection(Section):
    runner: Literal["direct", "dataflow", "flink", "spark", "portable"] = "direct"
    direct_running_mode: Literal["in_memory", "multi_threading", "multi_processing"] = "in_memory"
    direct_num_workers: int = Field(default=1, ge=0, description="0 means one per CPU core.")
    options: list[str] = Field(default_factory=list, description="Extra Beam pipeline options, passed through.")

    @field_validator("options")
    @classmethod
    def _flags(cls, options: list[str]) -> list[str]:
        for option in options:
            if not re.match(r"^--[A-Za-z_][\w-]*(=.*)?$", option):
                raise ValueError(f"{option!r} is not a Beam option (expected --name=value)")
        return options

    @model_validator(mode="after")
    def _runner_takes_options(self) -> BeamSection:
        problems = []
        for option in self.options:
            name = flag_name(option)
            if name in OWN_FLAGS:
                problems.append(f"{option}: set it with runner.beam.{name}, not in options")
                continue
            groups = beam_option_groups().get(name)
            if groups is None:
                problems.append(f"{option}: Beam has no pipeline option --{name}")
                continue
            runners = set().union(*(RUNNER_GROUPS.get(g, set(RUNNERS)) for g in groups))
            if self.runner not in runners:
                takes = ", ".join(sorted(runners))
                problems.append(f"{option}: runner '{self.runner}' does not take --{name} (runners that do: {takes})")
        if self.runner == "dataflow":
            given = {flag_name(o) for o in self.options}
            missing = [f"--{name}" for name in DATAFLOW_REQUIRED if name not in given]
            if missing:
                problems.append(f"runner 'dataflow' needs {', '.join(missing)} in options")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def pipeline_args(self) -> list[str]:
        """The `beam_pipeline_args` TFX hands to every Beam-based component."""
        args = [f"--runner={RUNNERS[self.runner]}"]
        if self.runner == "direct":
            args += [
                f"--direct_running_mode={self.direct_running_mode}",
                f"--direct_num_workers={self.direct_num_workers}",
            ]
        return args + list(self.options)


def flag_name(option: str) -> str:
    """`--temp_location=gs://x` -> `temp_location` (Beam also accepts dashes)."""
    return option[2:].split("=", 1)[0].replace("-", "_")


@functools.lru_cache(maxsize=1)
def beam_option_groups() -> dict[str, set[str]]:
    """Beam flag name -> names of the option groups that declare it."""
    from apache_beam.options import pipeline_options  # slow import: only when options need checking

    groups: dict[str, set[str]] = {}
    for group in _subclasses(pipeline_options.PipelineOptions):
        if group.__module__.startswith("apache_beam.testing") or group.__name__.startswith("Test"):
            continue
        parser = pipeline_options._BeamArgumentParser(add_help=False)
        if "_add_argparse_args" not in vars(group):
            continue
        group._add_argparse_args(parser)
        for action in parser._actions:
            for flag in action.option_strings:
                if flag.startswith("--"):
                    groups.setdefault(flag[2:].replace("-", "_"), set()).add(group.__name__)
    return groups


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found
