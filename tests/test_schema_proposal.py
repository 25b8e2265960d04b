"""Schema proposals and `tfxgate schema adopt`: atomic copy, no silent overwrite, clear errors."""

from __future__ import annotations

import json
import os

import pytest

from tfxgate.artifacts.schema_proposal import AdoptError, adopt, propose
from tfxgate.cli import main as cli

INFERRED = 'feature {\n  name: "fare"\n  type: FLOAT\n}\n'


@pytest.fixture
def proposal(tmp_path):
    inferred = tmp_path / "artifacts" / "SchemaGen" / "schema" / "5" / "schema.pbtxt"
    inferred.parent.mkdir(parents=True)
    inferred.write_text(INFERRED)
    return propose(inferred, root=tmp_path / "root", pipeline="taxi", run_id="2026-11-25T18:00:00.1")


def test_proposal_lies_beside_the_run_and_says_how_to_adopt_it(proposal, tmp_path):
    run_dir = tmp_path / "root" / "runs" / "2026-11-25T18-00-00.1"
    assert proposal == run_dir / "schema.pbtxt"
    text = proposal.read_text()
    assert text.endswith(INFERRED) and f"tfxgate schema adopt {run_dir}" in text
    assert json.loads((run_dir / "proposal.json").read_text())["pipeline"] == "taxi"


def test_adopt_copies_to_the_pipelines_schema_folder(proposal, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    target = adopt(proposal.parent)
    assert target.resolve() == tmp_path / "schemas" / "taxi" / "schema.pbtxt"
    assert target.read_text() == proposal.read_text()
    assert os.listdir(target.parent) == ["schema.pbtxt"]  # no temporary file left behind


def test_adopt_refuses_to_overwrite_a_curated_schema_without_force(proposal, tmp_path):
    curated = tmp_path / "curated" / "schema.pbtxt"
    curated.parent.mkdir()
    curated.write_text("# hand-curated\n")
    with pytest.raises(AdoptError, match=r"schema.pbtxt already exists \(a curated schema\); pass --force"):
        adopt(proposal.parent, to=curated)
    assert curated.read_text() == "# hand-curated\n"
    adopt(proposal, to=curated, force=True)
    assert curated.read_text() == proposal.read_text()


def test_proposal_that_does_not_parse_names_file_and_line(proposal, tmp_path):
    proposal.write_text(proposal.read_text() + "feature {\n  nme: 1\n}\n")
    with pytest.raises(ValueError, match=r"does not parse as a TFDV schema: line 8:3 : .*no field named \"nme\""):
        adopt(proposal.parent, to=tmp_path / "out.pbtxt")
    assert not (tmp_path / "out.pbtxt").exists()


def test_cli_adopt_exit_codes_and_messages(proposal, tmp_path, capsys):
    target = tmp_path / "schemas" / "taxi" / "schema.pbtxt"
    assert cli.main(["schema", "adopt", str(proposal.parent), "--to", str(target)]) == cli.EXIT_OK
    assert f"adopted {proposal.parent} as {target}" in capsys.readouterr().out
    assert cli.main(["schema", "adopt", str(proposal.parent), "--to", str(target)]) == cli.EXIT_CONFIG
    assert "already exists (a curated schema); pass --force" in capsys.readouterr().err
    assert cli.main(["schema", "adopt", str(tmp_path / "nothing"), "--to", str(target)]) == cli.EXIT_CONFIG
    assert f"no schema proposal at {tmp_path / 'nothing'}" in capsys.readouterr().err
