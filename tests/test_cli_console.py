"""What the `tfxgate` command shows: quiet by default, closed pipes end quietly, `--root`
isolates a run, and a printed command works when pasted."""

from __future__ import annotations

import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import REPO, TAXI_CONFIG
from tfxgate.cli.console import repeat_options
from tfxgate.cli.main import _parser
from tfxgate.pipelines.config.root import load_config
from tfxgate.reporting.summary import RunSummary, render

TFXGATE = str(Path(sys.executable).parent / "tfxgate")


def test_quiet_sends_python_cpp_and_child_output_to_the_log(tmp_path):
    """Within `quiet`, only what tfxgate writes to the terminal stream reaches the terminal."""
    log = tmp_path / "tfxgate.log"
    script = textwrap.dedent(
        f"""
        import logging, os, subprocess, sys, warnings
        from pathlib import Path
        from tfxgate.cli import console
        with console.quiet(Path({str(log)!r}), verbose=False) as terminal:
            print("keras progress bar", flush=True)             # Python's stdout
            os.write(2, b"E0000 cuda_dnn.cc Unable to register cuDNN factory\\n")  # C++ on fd 2
            subprocess.run(["echo", "setuptools: running bdist_wheel"])  # a child process
            warnings.warn("Pydantic serializer warnings")
            logging.getLogger("absl").warning("absl noise")
            print("tfxgate: own line", file=terminal, flush=True)
            logging.getLogger("tfxgate").error("a real error")
        print("after", flush=True)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "tfxgate: own line\nafter\n"
    assert proc.stderr == "a real error\n"
    logged = log.read_text()
    for noise in ("keras progress bar", "Unable to register cuDNN", "bdist_wheel", "Pydantic serializer", "absl noise"):
        assert noise in logged


def test_a_pipe_closed_early_ends_quietly():
    """`tfxgate ... | head -0`: the reader is gone before tfxgate writes."""
    proc = subprocess.Popen(
        [TFXGATE, "check", str(TAXI_CONFIG)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO
    )
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr and "Exception ignored" not in stderr
    assert stderr == ""


def test_root_puts_a_relative_push_root_under_it(tmp_path):
    config = load_config(TAXI_CONFIG, root=tmp_path / "iso")
    assert config.pipeline.root == tmp_path / "iso"
    assert Path(config.stages.push.root) == tmp_path / "iso" / "serving"
    assert config.governed().destinations["production"].directory == tmp_path / "iso" / "serving" / "production"


def test_root_keeps_an_absolute_or_explicit_push_root(tmp_path):
    explicit = load_config(TAXI_CONFIG, root=tmp_path / "iso", overrides=[f"stages.push.root={tmp_path / 'mine'}"])
    assert Path(explicit.stages.push.root) == tmp_path / "mine"
    absolute = tmp_path / "absolute.yaml"
    absolute.write_text(
        TAXI_CONFIG.read_text()
        .replace("root: ../serving/taxi", f"root: {tmp_path / 'serving'}")
        .replace("../", f"{REPO}/")
    )
    kept = load_config(absolute, root=tmp_path / "iso")
    assert Path(kept.stages.push.root) == tmp_path / "serving"


def test_the_printed_approve_command_repeats_config_root_and_set(tmp_path):
    options = repeat_options(
        config=Path("configs/taxi.yaml"), root=tmp_path / "iso", overrides=["stages.trainer.train_steps=5", "a.b=x y"]
    )
    summary = RunSummary(
        pipeline="taxi",
        run_id="2026-11-25T20:09:38.394603",
        succeeded=True,
        seconds=1.0,
        metadata="m",
        metadata_kind="sqlite",
        pushed=False,
        gates={"evaluation": {"passed": True, "detail": ""}},
        destinations=[{"destination": "production", "approval": "manual", "action": "pending", "run_id": "r"}],
        cli_options=options,
    )
    [line] = [line for line in render(summary).splitlines() if "tfxgate approve" in line]
    command = shlex.split(line.split("to push this model: ", 1)[1])
    args = _parser().parse_args(command[1:])  # the CLI itself accepts it
    assert (args.command, args.run, args.config, args.root) == (
        "approve",
        "r",
        Path("configs/taxi.yaml"),
        tmp_path / "iso",
    )
    assert args.overrides == ["stages.trainer.train_steps=5", "a.b=x y"]
    assert (args.by, args.reason, args.destination) == ("NAME", "TEXT", "production")


def test_every_governance_verb_takes_root():
    for verb in (["approve", "r", "-c", "c.yaml", "--by", "a", "--reason", "b"], ["history", "taxi"]):
        assert _parser().parse_args([*verb, "--root", "/tmp/x"]).root == Path("/tmp/x")
