"""The README's runnable snippets work as written.

A fenced block right after a `<!-- runnable -->` line is a promise that it works
when pasted (from the repository root). This test keeps the promise:

- `bash`: every command is parsed by tfxgate's own argument parser, and the
  config it names is loaded with its `-c`/`--root`/`--set` (keys, types, files).
  Fast commands run for real, in-process: `tfxgate check ...` and `--help`.
  Long-running ones (`run`, `approve`, `compile`, `submit`, `report`, `history`,
  `rollback`) are checked for syntax and config keys only; the end-to-end tests
  run them. `bash FILE` needs FILE to exist.
- `yaml`: a config fragment; each of its sections (`stages.<stage>`, or a
  top-level section) replaces that section of `configs/taxi.yaml`, and the
  result must pass `tfxgate check`.
- `python`: it must compile; a config it names must load; the node ids and
  output names it passes to `run_until`/`show` must exist in the pipeline
  `build_pipeline` builds (that test imports TFX).
"""

from __future__ import annotations

import ast
import json
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from tfxgate.cli.main import _parser, main
from tfxgate.pipelines.config.root import load_config
from tfxgate.pipelines.config.source import parse

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
TAXI = REPO / "configs" / "taxi.yaml"
MARKER = "<!-- runnable -->"
RUN_FOR_REAL = ("check",)  # fast, writes nothing


@dataclass(frozen=True)
class Snippet:
    lang: str
    line: int  # of the opening fence, 1-based
    text: str

    def __str__(self) -> str:
        return f"README.md:{self.line}:{self.lang}"


def snippets(path: Path = README) -> list[Snippet]:
    lines = path.read_text().splitlines()
    found = []
    for i, line in enumerate(lines):
        if line.strip() != MARKER:
            continue
        fence = lines[i + 1]
        assert fence.startswith("```"), f"README.md:{i + 1}: {MARKER} must come right before a fenced block"
        end = next(j for j in range(i + 2, len(lines)) if lines[j].startswith("```"))
        found.append(Snippet(fence[3:].strip(), i + 2, "\n".join(lines[i + 2 : end])))
    return found


def of(lang: str) -> list[Snippet]:
    return [s for s in snippets() if s.lang == lang]


def commands(text: str) -> list[list[str]]:
    """Each simple command of a bash snippet as argv (comments, redirections, pipes and `&&` split off)."""
    found = []
    for line in text.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        argv: list[str] = []
        for token in [*lexer, ";"]:
            if token in ("&&", "||", "|", ";"):
                if argv:
                    found.append(argv)
                argv = []
            elif token.startswith((">", "<", "&")) or (argv and argv[-1] == "\0"):
                argv.append("\0")  # a redirection and its target: not arguments
            else:
                argv.append(token)
        found = [[a for a in cmd if a != "\0"] for cmd in found]
    return found


def test_the_readme_marks_snippets_of_each_kind():
    kinds = {s.lang for s in snippets()}
    assert {"bash", "yaml", "python"} <= kinds
    assert len(snippets()) >= 10


def test_the_command_splitter():
    assert commands("A=1 tfxgate check c.yaml --set 'a=b c' >> log 2>&1 && bash x.sh | head -1  # note") == [
        ["A=1", "tfxgate", "check", "c.yaml", "--set", "a=b c"],
        ["bash", "x.sh"],
        ["head", "-1"],
    ]


@pytest.mark.parametrize("snippet", of("bash"), ids=str)
def test_bash_snippet(snippet, monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    for argv in commands(snippet.text):
        while argv and "=" in argv[0] and not argv[0].startswith("-"):
            argv = argv[1:]  # VAR=value prefixes
        program, args = argv[0], argv[1:]
        if program in ("tfxgate", ".venv/bin/tfxgate"):
            tfxgate(args, where=snippet)
        elif program == "bash":
            assert (REPO / args[0]).is_file(), f"{snippet}: bash {args[0]}: no such script"
        elif program in (".venv/bin/python", "python") and args[:2] == ["-m", "pytest"]:
            assert all((REPO / a).exists() for a in args[2:] if not a.startswith("-")), snippet
        elif program in (".venv/bin/python", "python") and args and args[0].startswith("scripts/"):
            assert (REPO / args[0]).is_file(), f"{snippet}: python {args[0]}: no such script"
        elif program == "head":
            continue
        else:
            pytest.fail(f"{snippet}: don't know how to check {program!r}: teach this test, or drop the marker")
    capsys.readouterr()


def tfxgate(args: list[str], *, where: Snippet) -> None:
    if "--help" in args or "-h" in args:
        with pytest.raises(SystemExit) as done:
            main(args)
        assert done.value.code == 0, f"{where}: tfxgate {shlex.join(args)}"
        return
    try:
        parsed = _parser().parse_args(args)
    except SystemExit:
        pytest.fail(f"{where}: tfxgate refuses its arguments: {shlex.join(args)}")
    if parsed.command in RUN_FOR_REAL:
        assert main(args) == 0, f"{where}: tfxgate {shlex.join(args)} failed"
        return
    config = getattr(parsed, "config", None)
    if config is None and getattr(parsed, "pipeline", None):
        config = Path("configs") / f"{parsed.pipeline}.yaml"
    if config is not None:
        load_config(config, overrides=parsed.overrides, root=getattr(parsed, "root", None))


@pytest.mark.parametrize("snippet", of("yaml"), ids=str)
def test_yaml_snippet_passes_check_in_the_demo_config(snippet):
    data, _ = parse(snippet.text)
    overrides = []
    for section, value in data.items():
        parts = value.items() if section == "stages" else [(None, value)]
        for stage, body in parts:
            key = f"stages.{stage}" if stage else section
            overrides.append(f"{key}={json.dumps(body)}")
    load_config(TAXI, overrides=overrides)


@pytest.mark.parametrize("snippet", of("python"), ids=str)
def test_python_snippet_compiles_and_names_a_loadable_config(snippet):
    tree = ast.parse(snippet.text, filename=str(snippet))
    for call in calls(tree, "interactive"):
        config = REPO / call.args[0].value
        overrides = next((ast.literal_eval(k.value) for k in call.keywords if k.arg == "overrides"), [])
        load_config(config, overrides=overrides)


def calls(tree: ast.AST, name: str) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) == name
    ]


def test_python_snippets_name_nodes_and_outputs_the_pipeline_has():
    from tfxgate.pipelines.build import build_pipeline

    outputs = {c.id: set(c.outputs) for c in build_pipeline(load_config(TAXI)).components}
    for snippet in of("python"):
        tree = ast.parse(snippet.text)
        for call in calls(tree, "run_until") + calls(tree, "show"):
            node = call.args[0].value
            assert node in outputs, f"{snippet}: no node {node!r} (nodes: {sorted(outputs)})"
            if len(call.args) > 1:
                assert call.args[1].value in outputs[node], f"{snippet}: {node} has no output {call.args[1].value!r}"
