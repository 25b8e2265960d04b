"""The `tfxgate` command.

    tfxgate check CONFIG [--set key.path=value ...]
    tfxgate run   CONFIG [--root DIR] [--set key.path=value ...] [--verbose] [--if-new-data] [--wait]
    tfxgate compile CONFIG --target kubeflow --output FILE [--set key.path=value ...]
    tfxgate compile CONFIG --target vertex --output FILE.json
    tfxgate submit CONFIG --host URL [--experiment NAME] [--namespace NS] [--schedule CRON]
    tfxgate metadata check CONFIG [--upgrade] [--root DIR] [--set key.path=value ...]
    tfxgate lineage PIPELINE VERSION [--destination NAME] [--json] [--set key.path=value ...]
    tfxgate report CONFIG [RUN] [--root DIR] [--output FILE] [--set key.path=value ...]
    tfxgate approve RUN -c CONFIG --by NAME --reason TEXT [--destination NAME] [--allow-older] [--root DIR] [--set ...]
    tfxgate reject RUN -c CONFIG --by NAME --reason TEXT [--destination NAME] [--root DIR] [--set ...]
    tfxgate reopen RUN|--model ID -c CONFIG --by NAME --reason TEXT [--destination NAME] [--root DIR] [--set ...]
    tfxgate rollback PIPELINE [-c CONFIG] --to VERSION --by NAME --reason TEXT [--destination NAME] [--root DIR]
    tfxgate history PIPELINE [-c CONFIG] [--json] [--root DIR]
    tfxgate promote PIPELINE [-c CONFIG] --by NAME --reason TEXT [--destination NAME] [--root DIR]
    tfxgate abort PIPELINE [-c CONFIG] --by NAME --reason TEXT [--destination NAME] [--root DIR]
    tfxgate monitor CONFIG --destination NAME --logs FILE [--labels FILE] [--root DIR] [--set ...]
    tfxgate schema adopt RUN [--to schemas/<pipeline>/schema.pbtxt] [--force]
    tfxgate beam-cluster up [--workers N] [--state-dir DIR] | status | down
    tfxgate init DIR [--csv FILE --label COLUMN [--label-kind KIND] [--name NAME] [--exclude COLUMN ...]]

Exit codes (RUN_EXIT_CODES, also in `tfxgate run --help`): 0 success: pushed, or
pending approval (or, with --if-new-data, nothing new to run on); 1 a pipeline
stage failed, a stage was left running, or the metadata store is not ready; 2 the
config (or the command line) is invalid, or the metadata store cannot be used as
configured, or a pending-decision file in the push root is not one, or a governance
decision is refused (nothing pending, already decided, rejected model, older model
without --allow-older, no such version, no canary candidate to promote or abort);
3 another run holds the pipeline's lock; 4 the run is BLOCKED: it ran, but a gate (drift,
validation, evaluation: not blessed) or a standing rejection of its model kept it
from pushing or waiting for approval. `--root DIR` isolates a run: metadata, artifacts
and (unless the config names an absolute push root) pushes go under DIR, and every
command printed repeats the -c/--root/--set it needs. Nothing heavy is imported until a command needs it, so
`check` and `--help` answer in about a second.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys
from pathlib import Path
from typing import Optional, Sequence

import tfxgate
from tfxgate.cli import beam_cluster, console
from tfxgate.pipelines.config.root import ConfigError, PipelineConfig, load_config, not_checked

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_LOCKED, EXIT_BLOCKED = 0, 1, 2, 3, 4
RUN_EXIT_CODES = """exit codes:
  0  pushed, or pending approval (or, with --if-new-data, nothing new to run on)
  1  a stage failed (or was left running), or the metadata store is not ready
  2  invalid config or command line, or the metadata store cannot be used as configured,
     or a pending-decision file in the push root is not one (nothing ran)
  3  another run holds this pipeline root's lock
  4  BLOCKED: a gate stopped the push (drift block, validation failed, model not blessed)
     or the model stands rejected at its destination"""
_STATUS_EXIT = {"SUCCEEDED": EXIT_OK, "BLOCKED": EXIT_BLOCKED, "FAILED": EXIT_FAILED, "INCOMPLETE": EXIT_FAILED}


_IMAGE_HELP = (
    "image every task runs (default: kubeflow.image); used even where known to lack tfxgate, e.g. a stock TFX image"
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tfxgate",
        description="Declarative, gated TFX pipelines: build a TFX pipeline from a YAML config and run it.",
        epilog="Example: tfxgate run configs/taxi.yaml --set stages.trainer.train_steps=50",
    )
    parser.add_argument("--version", action="version", version=f"tfxgate {tfxgate.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add_config_args(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("config", type=Path, help="pipeline YAML (e.g. configs/taxi.yaml)")
        _add_overrides(sub)

    check = commands.add_parser("check", help="validate a config without running anything")
    add_config_args(check)

    run = commands.add_parser(
        "run",
        help="build the pipeline from a config and run it locally",
        epilog=RUN_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_config_args(run)
    run.add_argument("--root", type=Path, help=_ROOT_HELP)
    run.add_argument("-v", "--verbose", action="store_true", help="show TFX/Beam logs on the console")
    run.add_argument(
        "--if-new-data",
        action="store_true",
        help="exit 0 without running when the newest span (or, unversioned, the input files) was already processed",
    )
    run.add_argument("--wait", action="store_true", help="wait for a run already holding this root's lock")
    run.add_argument(
        "--full",
        action="store_true",
        help="run every stage through TFX even when nothing changed since the last complete run "
        "(TFX then serves them from its cache and records a run of cached executions)",
    )

    compile_ = commands.add_parser("compile", help="compile the pipeline for Kubeflow Pipelines (KFP v2 spec)")
    add_config_args(compile_)
    compile_.add_argument(
        "--target",
        choices=["kubeflow", "vertex"],
        default="kubeflow",
        help="kubeflow: the pipeline spec; vertex: the Trainer's Vertex AI custom job arguments (JSON)",
    )
    compile_.add_argument(
        "--output",
        type=Path,
        required=True,
        help="kubeflow: *.yaml (KFP PipelineSpec) or *.json (Vertex PipelineJob); vertex: *.json",
    )
    compile_.add_argument("--image", help=_IMAGE_HELP)

    submit = commands.add_parser("submit", help="compile and start a run (or a recurring run) on Kubeflow Pipelines")
    add_config_args(submit)
    submit.add_argument("--host", required=True, help="KFP API endpoint, e.g. http://localhost:8080")
    submit.add_argument("--experiment", default="Default", help="KFP experiment (created if missing)")
    submit.add_argument("--namespace", help="Kubernetes namespace (multi-user KFP)")
    submit.add_argument("--schedule", metavar="CRON", help="create a recurring run instead, e.g. '0 3 * * *'")
    submit.add_argument("--image", help=_IMAGE_HELP)

    report = commands.add_parser("report", help="write one run's self-contained HTML report")
    add_config_args(report)
    report.add_argument("run", nargs="?", default="latest", help="run id (as `run` prints it); default: the latest")
    report.add_argument("--root", type=Path, help="pipeline root the run used; overrides pipeline.root")
    report.add_argument("--output", type=Path, help="HTML file to write (default: <root>/reports/<run id>.html)")

    monitor = commands.add_parser(
        "monitor",
        help="judge a batch of serving logs of a destination: data, prediction and concept drift",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="exit codes:\n  0  no breach\n  1  an error\n  2  invalid config or command line\n  4  a breach",
    )
    add_config_args(monitor)
    monitor.add_argument("--destination", required=True, help="push destination whose serving logs these are")
    monitor.add_argument(
        "--logs", required=True, help="serving log file: CSV, Parquet or JSON lines (local, gs://, s3://)"
    )
    monitor.add_argument("--labels", help="labels that arrived later, joined on monitoring.key (same formats)")
    monitor.add_argument("--root", type=Path, help=_ROOT_HELP)

    metadata = commands.add_parser("metadata", help="inspect or prepare the ML Metadata store")
    metadata_commands = metadata.add_subparsers(dest="metadata_command", required=True, metavar="COMMAND")
    metadata_check = metadata_commands.add_parser(
        "check", help="connect, report server and MLMD schema versions; --upgrade creates/migrates the schema"
    )
    add_config_args(metadata_check)
    metadata_check.add_argument(
        "--root", type=Path, help="pipeline root (where a SQLite store lives); overrides pipeline.root"
    )
    metadata_check.add_argument(
        "--upgrade", action="store_true", help="create the MLMD schema if missing, or migrate an older one"
    )

    lineage = commands.add_parser("lineage", help="show the evidence behind a pushed model version, as a tree")
    lineage.add_argument(
        "config", type=Path, metavar="PIPELINE", help="pipeline YAML, or a name found as configs/NAME.yaml"
    )
    lineage.add_argument("version", help="pushed version (the directory name under the push destination)")
    lineage.add_argument("--json", action="store_true", help="print the evidence as JSON instead of a tree")
    lineage.add_argument("--destination", help="destination name, when VERSION names different models at several")
    lineage.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE", help="override a config key"
    )
    lineage.add_argument("--root", type=Path, help="pipeline root; overrides pipeline.root")
    schema = commands.add_parser("schema", help="work with schemas inferred by runs without a curated one")
    schema_commands = schema.add_subparsers(dest="schema_command", required=True, metavar="COMMAND")
    adopt = schema_commands.add_parser("adopt", help="copy a run's proposed schema to the curated location")
    adopt.add_argument("run", type=Path, help="the proposal directory a run printed (<root>/runs/<run id>)")
    adopt.add_argument("--to", type=Path, help="target file (default: schemas/<pipeline>/schema.pbtxt)")
    adopt.add_argument("--force", action="store_true", help="replace an existing curated schema")
    init = commands.add_parser(
        "init",
        help="write a starter project: the taxi demo, or (--csv) a project for your own CSV",
        description="Without --csv: the taxi demo (config, curated schema, trainer). With --csv FILE --label "
        "COLUMN: a config and a trainer module for that data, from its first rows: column types, the "
        "label's kind, a slice, gates for the kind. The first run infers the schema and proposes it.",
    )
    init.add_argument("directory", type=Path, metavar="DIR", help="where to write it (created if missing)")
    init.add_argument("--csv", type=Path, metavar="FILE", help="your data: a CSV file with a header line")
    init.add_argument("--label", metavar="COLUMN", help="the column to predict (required with --csv)")
    init.add_argument(
        "--label-kind",
        choices=["binary", "multiclass", "regression"],
        help="what the label is; default: inferred (2 values binary, up to 50 integers or texts multiclass, "
        "other numbers regression)",
    )
    init.add_argument("--name", help="pipeline name, [a-z0-9][a-z0-9-]* (default: from the CSV's file name)")
    init.add_argument(
        "--exclude", action="append", default=[], metavar="COLUMN", help="a column that is not a feature (repeatable)"
    )
    _add_governance(commands)
    beam_cluster.add_parser(commands)
    return parser


def _add_overrides(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="override a config key (repeatable); VALUE is YAML, relative paths are relative to the config",
    )


_ROOT_HELP = (
    "pipeline root (artifacts, metadata, logs); overrides pipeline.root, and puts a relative push root "
    "under it (DIR/serving)"
)
_PIPELINE_VERBS = ("rollback", "history", "promote", "abort")  # verbs on a pipeline (not a run): -c optional
_PIPELINE_HELP = "pipeline name (configs/NAME.yaml unless -c says otherwise) or its YAML file"


def _add_governance(commands) -> None:
    """approve / reject / rollback / history: decisions on what a pipeline pushes (tfxgate/governance/store.py)."""

    def add(name: str, help_: str, subject: str, subject_help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_)
        sub.add_argument(subject, help=subject_help, **({"nargs": "?"} if name == "reopen" else {}))
        sub.add_argument(
            "-c",
            "--config",
            type=Path,
            required=subject == "run",  # a run id says nothing of which pipeline
            help="the pipeline's YAML (e.g. configs/taxi.yaml); for a PIPELINE verb, default: PIPELINE itself "
            "when it is a YAML file, else configs/PIPELINE.yaml",
        )
        _add_overrides(sub)
        sub.add_argument("--root", type=Path, help="the --root the run was given (" + _ROOT_HELP + ")")
        return sub

    run_help = "run id, as the run summary prints it"
    for name, help_ in (
        ("approve", "approve a run's model pending approval and push it"),
        ("reject", "reject a run's model pending approval"),
    ):
        sub = add(name, help_, "run", run_help)
        sub.add_argument("--by", required=True, help="who decides (recorded in ML Metadata)")
        sub.add_argument("--reason", required=True, help="why (recorded in ML Metadata)")
        sub.add_argument("--destination", help="destination name, when the run is pending for more than one")
        if name == "approve":
            sub.add_argument(
                "--allow-older",
                action="store_true",
                help="approve even though the destination serves a newer model (recorded in the reason)",
            )
    reopen = add("reopen", "lift the rejection of a model so that it can be approved again", "run", run_help)
    reopen.add_argument("--model", type=int, metavar="ID", help="the Model artifact id, instead of a run")
    reopen.add_argument("--by", required=True, help="who decides (recorded in ML Metadata)")
    reopen.add_argument("--reason", required=True, help="why (recorded in ML Metadata)")
    reopen.add_argument("--destination", help="destination name, when the model is rejected at more than one")
    rollback = add("rollback", "point a destination's `current` back at an earlier version", "pipeline", _PIPELINE_HELP)
    rollback.add_argument("--to", required=True, metavar="VERSION", help="version to serve again")
    rollback.add_argument("--by", required=True, help="who decides (recorded in ML Metadata)")
    rollback.add_argument("--reason", required=True, help="why (recorded in ML Metadata)")
    rollback.add_argument("--destination", help="destination name, when the version exists at more than one")
    for name, help_ in (
        ("promote", "make a destination's canary (or blue-green) candidate its stable version"),
        ("abort", "drop a destination's canary (or blue-green) candidate: all traffic back to the stable version"),
    ):
        sub = add(name, help_, "pipeline", _PIPELINE_HELP)
        sub.add_argument("--by", required=True, help="who decides (recorded in ML Metadata)")
        sub.add_argument("--reason", required=True, help="why (recorded in ML Metadata)")
        sub.add_argument("--destination", help="destination name, when more than one has a rollout")
    history = add(
        "history", "list a pipeline's pushes and rollbacks with approver, reason and gates", "pipeline", _PIPELINE_HELP
    )
    history.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _adopt(args: argparse.Namespace) -> int:
    from tfxgate.artifacts.schema_proposal import adopt

    try:
        target = adopt(args.run, to=args.to, force=args.force)
    except ValueError as err:  # AdoptError, SchemaFileError
        print(f"tfxgate: {err}", file=sys.stderr)
        return EXIT_CONFIG
    print(f"tfxgate: adopted {args.run} as {target}; point the config's `schema:` at it")
    return EXIT_OK


def _init(args: argparse.Namespace) -> int:
    from tfxgate.pipelines import csv_starter, starter

    csv_only = [
        "--" + flag.replace("_", "-") for flag in ("label", "label_kind", "name", "exclude") if getattr(args, flag)
    ]
    if args.csv is None and csv_only:
        print(f"tfxgate init: {', '.join(csv_only)}: only with --csv FILE (your data)", file=sys.stderr)
        return EXIT_CONFIG
    if args.csv is not None and args.label is None:
        print("tfxgate init: --csv needs --label COLUMN (the column to predict)", file=sys.stderr)
        return EXIT_CONFIG
    try:
        if args.csv is None:
            written, config, notes = starter.write_starter(args.directory), args.directory / starter.CONFIG, []
        else:
            project = csv_starter.write_csv_starter(
                args.directory,
                args.csv,
                label=args.label,
                label_kind=args.label_kind,
                name=args.name,
                exclude=args.exclude,
            )
            written, config, notes = project.files, project.config, project.notes
    except (starter.StarterExists, csv_starter.ProfileError) as err:  # nothing was written
        print(f"tfxgate: {err}", file=sys.stderr)
        return EXIT_CONFIG
    print(f"tfxgate: wrote a starter project to {args.directory}:")
    for path in written:
        print(f"  {path}")
    for note in notes:
        print(f"  {note}")
    print(f"run it with: {starter.run_command(config)}")
    return EXIT_OK


def main(argv: Optional[Sequence[str]] = None) -> int:
    return console.closed_pipe_safe(lambda: _main(argv))


def _main(argv: Optional[Sequence[str]]) -> int:
    args = _parser().parse_args(argv)
    if args.command == "schema":
        return _adopt(args)
    if args.command == "init":
        return _init(args)
    if args.command == "beam-cluster":
        return beam_cluster.run(args)
    overrides = list(args.overrides)
    root = getattr(args, "root", None)
    if args.command == "lineage":
        args.config = _config_path(args.config)
    if args.command in _PIPELINE_VERBS and args.config is None:
        args.config = _config_path(Path(args.pipeline))
        if not args.config.is_file():
            print(
                f"tfxgate: no config {args.config} for '{args.pipeline}': name its config with -c CONFIG",
                file=sys.stderr,
            )
            return EXIT_CONFIG
    try:
        config = load_config(args.config, overrides=overrides, root=root)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return EXIT_CONFIG
    if args.command in _PIPELINE_VERBS and Path(args.pipeline).suffix in (".yaml", ".yml"):
        args.pipeline = config.pipeline.name
    if args.command == "check":
        print(f"{args.config}: OK (pipeline '{config.pipeline.name}', root {config.pipeline.root})")
        print(f"label {config.data.label!r}: {config.data.label_spec.describe()} ({config.label_kind_origin})")
        for note in not_checked(config):
            print(f"  {note}")
        from tfxgate.pipelines.data_check import data_warnings

        for warning in data_warnings(config):
            print(f"warning: {warning}")
        from tfxgate.alerts.settings import unset_variables

        for key, variable in unset_variables(config.alerts):
            print(f"warning: {key}: environment variable {variable} is not set here (alerts to that sink will fail)")
        return EXIT_OK
    if args.command == "compile":
        if args.target == "vertex":
            return _compile_vertex(config, args.output)
        return _compile(config, args.output, image=args.image)
    if args.command == "submit":
        return _submit(config, args)
    if args.command == "monitor":
        from tfxgate.cli.monitoring import monitor

        return monitor(config, args)
    if args.command in ("approve", "reject", "reopen", *_PIPELINE_VERBS):
        from tfxgate.cli.governance import govern

        return govern(config, args)
    from tfxgate.mlmd.store import MetadataError

    try:
        if args.command == "metadata":
            return _metadata_check(config, upgrade=args.upgrade)
        if args.command == "lineage":
            return _lineage(config, version=args.version, as_json=args.json, destination=args.destination)
        if args.command == "report":
            return _report(config, run_id=args.run, output=args.output)
        options = console.repeat_options(config=args.config, root=root, overrides=args.overrides)
        return _run_locked(
            config,
            verbose=args.verbose,
            if_new_data=args.if_new_data,
            wait=args.wait,
            full=args.full,
            options=options,
        )
    except MetadataError as err:
        print(
            f"tfxgate: {console.metadata_problem(err, config=args.config, root=root, overrides=overrides)}",
            file=sys.stderr,
        )
        return EXIT_CONFIG


def _metadata_check(config: PipelineConfig, *, upgrade: bool) -> int:
    from tfxgate.mlmd.store import inspect, prepare

    before = inspect(config.metadata, root=config.pipeline.root)
    after = prepare(config.metadata, root=config.pipeline.root, upgrade=upgrade)
    print(f"metadata store: {after.address} ({config.metadata.kind})")
    print(f"  server: {after.server_version}")
    print(f"  MLMD schema: {_schema(before.schema_version)} (this ml-metadata writes v{after.library_schema_version})")
    if after.schema_version != before.schema_version:
        print(f"  {'created' if before.schema_version is None else 'upgraded'} schema: now v{after.schema_version}")
    if after.ready:
        print("  ready")
        return EXIT_OK
    print("  not ready: run again with --upgrade to create or upgrade the schema", file=sys.stderr)
    return EXIT_FAILED


def _config_path(pipeline: Path) -> Path:
    """A pipeline named by its config file, or by name as `configs/NAME.yaml` (the layout of this repo)."""
    if pipeline.suffix in (".yaml", ".yml") or pipeline.exists():
        return pipeline
    return Path("configs") / f"{pipeline}.yaml"


def _lineage(config: PipelineConfig, *, version: str, as_json: bool, destination: Optional[str] = None) -> int:
    from tfxgate.mlmd.store import open_store
    from tfxgate.reporting.lineage_tree import UnknownVersion, lineage, render, tree

    name = config.pipeline.name
    if config.metadata_path is not None and not config.metadata_path.exists():
        print(f"tfxgate: pipeline '{name}' has no runs yet ({config.metadata_path} does not exist)", file=sys.stderr)
        return EXIT_CONFIG
    store = open_store(config.metadata, root=config.pipeline.root, read_only=True)
    try:
        evidence = lineage(store, pipeline=name, version=version, destination=destination)
    except UnknownVersion as err:
        print(f"tfxgate: {err}", file=sys.stderr)
        return EXIT_CONFIG
    print(evidence.to_json() if as_json else render(tree(evidence, version=version)))
    return EXIT_OK


def _report(config: PipelineConfig, *, run_id: str, output: Optional[Path]) -> int:
    from tfxgate.pipelines.report import ReportError, write

    try:
        written = write(config, run_id=run_id, output=output)
    except ReportError as err:
        print(f"tfxgate: {err}", file=sys.stderr)
        return EXIT_FAILED
    print(f"tfxgate: report of pipeline '{config.pipeline.name}' -> {written}")
    return EXIT_OK


def _schema(version: Optional[int]) -> str:
    return "none yet" if version is None else f"v{version}"


def _submit(config: PipelineConfig, args: argparse.Namespace) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from tfxgate.pipelines.kubeflow.compile import CompileError
    from tfxgate.pipelines.kubeflow.submit import SubmitError, submit

    try:
        done = submit(
            config,
            host=args.host,
            experiment=args.experiment,
            namespace=args.namespace,
            schedule=args.schedule,
            image=args.image,
        )
    except CompileError as err:
        print(err, file=sys.stderr)
        return EXIT_CONFIG
    except SubmitError as err:
        print(f"tfxgate: {err}", file=sys.stderr)
        return EXIT_FAILED
    if done.recurring_run_id:
        print(f"tfxgate: recurring run {done.recurring_run_id} of '{config.pipeline.name}' created ({args.schedule})")
    else:
        print(f"tfxgate: run {done.run_id} of '{config.pipeline.name}' started in experiment {args.experiment}")
    return EXIT_OK


def _run_locked(
    config: PipelineConfig, *, verbose: bool, if_new_data: bool, wait: bool, full: bool, options: str
) -> int:
    """One run at a time per root; with `if_new_data`, only when the input changed."""
    from tfxgate.governance.push_records import UnreadablePending
    from tfxgate.pipelines import schedule

    try:
        with schedule.pipeline_lock(config.pipeline.root, wait=wait) as waited:
            if waited:
                print(f"tfxgate: waited for the other run on {config.pipeline.root} to finish", flush=True)
            # Decided under the lock: a run that just finished may have processed it.
            if if_new_data:
                decision = schedule.new_data(config)
                if not decision.new:
                    print(f"tfxgate: {decision.reason}")
                    return EXIT_OK
            processed = schedule.newest_input(config)
            code, run_id = _run(config, verbose=verbose, full=full, options=options)
            if code == EXIT_OK:  # a blocked span is tried again by the next --if-new-data
                schedule.record_success(config, run_id=run_id, processed=processed)
            return code
    except schedule.PipelineLocked as err:
        print(f"tfxgate: {err}", file=sys.stderr)
        return EXIT_LOCKED
    except UnreadablePending as err:  # found by recovery, before any stage ran
        print(f"tfxgate: {err}; nothing ran", file=sys.stderr)
        return EXIT_CONFIG


def _compile(config: PipelineConfig, output: Path, *, image: Optional[str]) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.getLogger().setLevel(logging.ERROR)
    from tfxgate.pipelines.kubeflow.compile import CompileError, compile_kubeflow, copy_wheels

    try:
        compiled = compile_kubeflow(config, output, image=image)
    except CompileError as err:
        print(err, file=sys.stderr)
        return EXIT_CONFIG
    print(f"tfxgate: compiled pipeline '{config.pipeline.name}' for Kubeflow -> {output}")
    for warning in compiled.warnings:
        print(f"  warning: {warning}")
    for command in copy_wheels(compiled):
        print(f"  before the first run: {command}")
    return EXIT_OK


def _compile_vertex(config: PipelineConfig, output: Path) -> int:
    from tfxgate.pipelines.kubeflow.vertex import TRAINING_ARGS_KEY, VertexError, write_training_args

    try:
        custom_config = write_training_args(config, output)
    except VertexError as err:
        print(err, file=sys.stderr)
        return EXIT_CONFIG
    print(f"tfxgate: Vertex AI training arguments of the Trainer of '{config.pipeline.name}' -> {output}")
    print("  (the custom_config of tfx.extensions.google_cloud_ai_platform.Trainer)")
    for pool in custom_config[TRAINING_ARGS_KEY]["job_spec"]["worker_pool_specs"]:
        machine = pool["machine_spec"]
        gpus = (
            f" + {machine['accelerator_count']} x {machine['accelerator_type']}"
            if "accelerator_type" in machine
            else ""
        )
        print(f"  worker pool: {pool['replica_count']} x {machine['machine_type']}{gpus}")
    return EXIT_OK


def _run(config: PipelineConfig, *, verbose: bool, full: bool, options: str) -> tuple[int, str]:
    """Runs the pipeline; TFX/Beam/TF/CUDA output goes to `<root>/logs/tfxgate.log` unless `verbose`."""
    log_path = config.pipeline.root / "logs" / "tfxgate.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with console.quiet(log_path, verbose=verbose) as terminal:
        return _run_pipeline(config, log_path=log_path, full=full, options=options, out=terminal)


def _run_pipeline(config: PipelineConfig, *, log_path: Path, full: bool, options: str, out) -> tuple[int, str]:
    """The run itself; tfxgate's own lines go to `out` (stdout carries TF/Keras/pip output to the log)."""
    print(f"tfxgate: running pipeline '{config.pipeline.name}' from {config.source}", file=out, flush=True)
    print(f"  root {config.pipeline.root}  (full log: {log_path})", file=out, flush=True)

    if config.metadata.kind != "sqlite":  # refuse an unready server store before the slow TFX import
        from tfxgate.mlmd.store import open_store

        open_store(config.metadata, root=config.pipeline.root)
    from tfxgate.pipelines import unchanged

    def notice(message: str) -> None:
        print(f"  {message}", file=out, flush=True)

    inputs = unchanged.fingerprint(config)  # as the run starts: what changes during the run is the next run's
    earlier = None if full else unchanged.unchanged_since(config, inputs, notice=notice)
    if earlier is not None:
        print(
            f"  nothing changed since run {earlier.run_id} (config, the files it names, data, code, ML Metadata):\n"
            f"  every stage would come from TFX's cache, so none runs; that run's outcome stands: {earlier.status}\n"
            f"  (its report: {_report_command(options, earlier.run_id)}; run every stage anyway with --full)",
            file=out,
            flush=True,
        )
        return earlier.exit_code, earlier.run_id
    from tfxgate import storage
    from tfxgate.alerts import runs as alerts
    from tfxgate.cli.alerting import announce
    from tfxgate.pipelines.local import run_local  # heavy: imports TFX
    from tfxgate.reporting.summary import render, summarize

    def progress(event: str, node) -> None:
        if event == "start":
            print(f"  -> {node.node_id} ...", file=out, flush=True)
        else:
            detail = f"  {node.error}" if node.error else ""
            print(f"  <- {node.node_id}: {node.state} ({node.seconds:.1f} s){detail}", file=out, flush=True)

    outcome = run_local(config, progress=progress, notice=notice)
    summary = summarize(
        outcome, metadata=config.metadata, config_file=config.source, curated_schema=config.schema_file is not None
    )
    summary.cli_options = options  # the printed approve command repeats them
    if summary.inferred_schema and Path(summary.inferred_schema).is_file():
        from tfxgate.artifacts.schema_proposal import propose

        summary.schema_proposal = str(
            propose(
                Path(summary.inferred_schema),
                root=config.pipeline.root,
                pipeline=config.pipeline.name,
                run_id=outcome.run_id,
            )
        )
    print(render(summary), file=out, flush=True)
    summary.alerts = announce(config, alerts.from_run(summary), out=out)
    storage.write_text(config.pipeline.root / "summaries" / f"{_safe(outcome.run_id)}.json", summary.to_json())
    if outcome.fully_cached:
        print("  every stage was served from TFX's cache: nothing changed since the last run", file=out, flush=True)
    code = _STATUS_EXIT[summary.status]
    if outcome.succeeded and code in (EXIT_OK, EXIT_BLOCKED):
        from tfxgate.mlmd.store import open_store

        store = open_store(config.metadata, root=config.pipeline.root)
        unchanged.record(config, inputs, store, run_id=outcome.run_id, exit_code=code, status=summary.status)
    else:
        unchanged.forget(config)
    return code, outcome.run_id


def _report_command(options: str, run_id: str) -> str:
    """`tfxgate report CONFIG RUN_ID [--root R] [--set ...]` for this invocation's options."""
    _, config, *rest = shlex.split(options)
    return shlex.join(["tfxgate", "report", config, run_id, *rest])


def _safe(run_id: str) -> str:
    return run_id.replace(":", "-")


if __name__ == "__main__":
    sys.exit(main())
