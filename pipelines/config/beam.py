"""The `runner.beam:` section: which Beam runner executes TFX's Beam stages.

`runner` picks the Beam runner (`direct`, `dataflow`, `flink`, `spark`,
`portable`); `direct_running_mode` / `direct_num_workers` tune the
DirectRunner (e.g. `multi_processing` with 2 workers uses 2 cores); `options`
are any other Beam pipeline flags, passed through as written.

The portable family (`portable`, `flink`, `spark`) has typed keys for what
every portable job needs: `job_endpoint` (the job service, e.g. a Flink/Spark
job server or `tfxgate beam-cluster up`), `environment_type` (where the SDK
workers run: `EXTERNAL` worker pools, a `PROCESS` command, a `DOCKER` image),
`environment_config` (the pool address, the command JSON, the image) and
`sdk_worker_parallelism` (SDK workers per job). The whole flag list is then
parsed by Beam's own `PipelineOptions` when the config is loaded, so a value
Beam would refuse at submit time (a non-integer parallelism, an unknown flag)
is an error at `check`, naming the config key.

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
from typing import Literal, Optional

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
# Typed keys of the portable runners: config key = Beam flag name.
PORTABLE_KEYS = ("job_endpoint", "environment_type", "environment_config", "sdk_worker_parallelism")
PORTABLE_RUNNERS = {"portable", "flink", "spark"}

# What a Dataflow job cannot start without (Beam checks these only at submit).
DATAFLOW_REQUIRED = ("project", "region", "temp_location")


class BeamSection(Section):
    runner: Literal["direct", "dataflow", "flink", "spark", "portable"] = "direct"
    direct_running_mode: Literal["in_memory", "multi_threading", "multi_processing"] = "in_memory"
    direct_num_workers: int = Field(default=1, ge=0, description="0 means one per CPU core.")
    job_endpoint: Optional[str] = Field(default=None, description="Job service host:port (portable runners).")
    environment_type: Optional[Literal["EXTERNAL", "PROCESS", "DOCKER", "LOOPBACK"]] = Field(
        default=None, description="Where SDK workers run: EXTERNAL worker pools, a PROCESS command, a DOCKER image."
    )
    environment_config: Optional[str] = Field(
        default=None,
        description="EXTERNAL: the worker pool's host:port; PROCESS: '{\"command\": ...}'; DOCKER: the image.",
    )
    sdk_worker_parallelism: Optional[int] = Field(
        default=None, ge=0, description="SDK workers per job (0: the runner decides)."
    )
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
        problems += self._portable_problems()
        if self.runner == "dataflow":
            given = {flag_name(o) for o in self.options}
            missing = [f"--{name}" for name in DATAFLOW_REQUIRED if name not in given]
            if missing:
                problems.append(f"runner 'dataflow' needs {', '.join(missing)} in options")
        if not problems and (self.runner != "direct" or self.options):
            problems += beam_parse_problems(self._flags_by_key())
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _portable_problems(self) -> list[str]:
        typed = {key: getattr(self, key) for key in PORTABLE_KEYS if getattr(self, key) is not None}
        if typed and self.runner not in PORTABLE_RUNNERS:
            keys = ", ".join(f"runner.beam.{key}" for key in typed)
            return [f"{keys}: only the portable runners (portable, flink, spark) take them, not '{self.runner}'"]
        given = {flag_name(o): o for o in self.options}
        problems = [
            f"{given[key]}: set it once, with runner.beam.{key} (it is set there too)" for key in typed if key in given
        ]
        endpoint = self.job_endpoint or _value(given.get("job_endpoint"))
        if self.runner == "portable" and not endpoint:
            problems.append("runner.beam.job_endpoint: runner 'portable' needs a job service (host:port)")
        environment = (self.environment_type or _value(given.get("environment_type")) or "").upper()
        config = self.environment_config or _value(given.get("environment_config"))
        if environment in ("EXTERNAL", "PROCESS") and not config:
            what = "the worker pool's host:port" if environment == "EXTERNAL" else 'a JSON {"command": ...}'
            problems.append(f"runner.beam.environment_config: environment_type {environment} needs {what}")
        return problems

    def _flags_by_key(self) -> list[tuple[str, str]]:
        """(config key, the Beam flag it becomes), in `pipeline_args()` order."""
        flags = [("runner.beam.runner", f"--runner={RUNNERS[self.runner]}")]
        if self.runner == "direct":
            flags.append(("runner.beam.direct_running_mode", f"--direct_running_mode={self.direct_running_mode}"))
            flags.append(("runner.beam.direct_num_workers", f"--direct_num_workers={self.direct_num_workers}"))
        for key in PORTABLE_KEYS:
            if getattr(self, key) is not None:
                flags.append((f"runner.beam.{key}", f"--{key}={getattr(self, key)}"))
        flags += [(f"runner.beam.options[{i}]", option) for i, option in enumerate(self.options)]
        return flags

    def pipeline_args(self) -> list[str]:
        """The `beam_pipeline_args` TFX hands to every Beam-based component."""
        return [flag for _, flag in self._flags_by_key()]


def _value(option: Optional[str]) -> Optional[str]:
    return option.split("=", 1)[1] if option and "=" in option else None


def beam_parse_problems(flags_by_key: list[tuple[str, str]]) -> list[str]:
    """What Beam's own option parser says of each flag: unknown, or a value it cannot parse.

    Each flag goes through the parser `PipelineOptions.get_all_options` builds
    (every option group), raising instead of exiting; then the whole list is
    read as the portable runners read it, `PipelineOptions(flags).view_as(PortableOptions)`.
    A problem names the config key the flag came from.
    """
    from apache_beam.options import pipeline_options  # slow import: only when there are flags to check

    problems = []
    for key, flag in flags_by_key:
        try:
            _, unknown = _strict_parser().parse_known_args([flag])
        except _BeamRefused as err:
            problems.append(f"{key}: Beam refuses {flag}: {err}")
            continue
        if unknown:
            problems.append(f"{key}: Beam has no pipeline option {flag.split('=', 1)[0]}")
    if not problems:
        options = pipeline_options.PipelineOptions([flag for _, flag in flags_by_key])
        options.view_as(pipeline_options.PortableOptions).get_all_options()
    return problems


class _BeamRefused(ValueError):
    pass


@functools.lru_cache(maxsize=1)
def _strict_parser():
    from apache_beam.options import pipeline_options

    class Parser(pipeline_options._BeamArgumentParser):
        def error(self, message):
            raise _BeamRefused(message)

    parser = Parser(allow_abbrev=False)
    # As get_all_options: the last class of each name (a main session may repeat one).
    groups = {str(cls): cls for cls in pipeline_options.PipelineOptions.__subclasses__()}
    for group in groups.values():
        group._add_argparse_args(parser)
    return parser


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
