"""The config language: valid configs load; every invalid one fails at load with the key named."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tfxgate.pipelines.config.root import ConfigError, load_config

REPO = Path(__file__).resolve().parents[1]
TAXI = REPO / "configs" / "taxi.yaml"


def write_config(tmp_path: Path, text: str) -> Path:
    """A config in tmp_path with a trainer module and data file beside it."""
    (tmp_path / "trainer").mkdir(exist_ok=True)
    (tmp_path / "trainer" / "trainer.py").write_text("def run_fn(fn_args):\n    pass\n")
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    path = tmp_path / "pipeline.yaml"
    path.write_text(textwrap.dedent(text))
    return path


MINIMAL = """\
pipeline:
  name: demo
  root: out
data:
  path: data.csv
  label: b
stages:
  trainer:
    module_file: trainer/trainer.py
    train_steps: 10
    eval_steps: 5
  push:
    root: serving
"""


def problems(path: Path, overrides=None) -> list[tuple[str, object, str]]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, overrides=overrides)
    return caught.value.problems


def test_taxi_config_loads_with_resolved_paths():
    config = load_config(TAXI)
    assert config.pipeline.name == "taxi"
    assert config.pipeline.root == REPO / "runs" / "taxi"
    assert config.data.input_pattern == "data.csv"
    assert (config.data.input_base / "data.csv").is_file()
    assert config.schema_file == REPO / "schemas" / "taxi" / "schema.pbtxt"
    assert config.stages.trainer.module_file == REPO / "trainers" / "taxi" / "trainer.py"
    assert config.metadata_path == REPO / "runs" / "taxi" / "metadata.sqlite"
    assert config.stages.evaluation.slice_columns == [
        [],
        ["payment_type"],
        ["trip_start_hour_bucket"],
        ["payment_type", "trip_start_hour_bucket"],
    ]
    assert config.runner.beam.pipeline_args()[:3] == [
        "--runner=DirectRunner",
        "--direct_running_mode=in_memory",
        "--direct_num_workers=1",
    ]


def test_minimal_config_gets_defaults(tmp_path):
    config = load_config(write_config(tmp_path, MINIMAL))
    assert config.data.splits == {"train": 2, "eval": 1}
    assert config.schema_file is None
    assert config.stages.evaluation.slices == [[]]
    assert config.metadata.kind == "sqlite"
    assert config.pipeline.root == tmp_path / "out"


def test_relative_paths_resolve_against_the_config_not_the_cwd(tmp_path, monkeypatch):
    path = write_config(tmp_path, MINIMAL)
    monkeypatch.chdir("/")
    assert load_config(path).data.path == str(tmp_path / "data.csv")


def test_unknown_key_is_named_with_its_line(tmp_path):
    path = write_config(tmp_path, MINIMAL.replace("  label: b\n", "  label: b\n  lable: c\n"))
    [(key, line, message)] = problems(path)
    assert key == "data.lable"
    assert line == 7
    assert "unknown key" in message
    assert str(path) in str(ConfigError(path, [(key, line, message)]))


def test_wrong_type_names_key_line_and_value(tmp_path):
    path = write_config(tmp_path, MINIMAL.replace("train_steps: 10", "train_steps: many"))
    [(key, line, message)] = problems(path)
    assert key == "stages.trainer.train_steps"
    assert line == 10
    assert "integer" in message and "'many'" in message


def test_missing_data_file_is_named(tmp_path):
    path = write_config(tmp_path, MINIMAL.replace("path: data.csv", "path: nowhere.csv"))
    [(key, line, message)] = problems(path)
    assert key == "data.path"
    assert line == 5
    assert "no such file or directory" in message and "nowhere.csv" in message


def test_glob_matching_nothing_is_an_error(tmp_path):
    path = write_config(tmp_path, MINIMAL.replace("path: data.csv", "path: 'span-*.csv'"))
    [(key, _, message)] = problems(path)
    assert key == "data.path"
    assert "no csv file matches" in message


def test_directory_input_reads_files_of_the_format(tmp_path):
    path = write_config(tmp_path, MINIMAL.replace("path: data.csv", "path: ."))
    config = load_config(path)
    assert config.data.input_base == tmp_path
    assert config.data.input_pattern == "*.csv"


def test_missing_trainer_module_and_schema_are_both_reported(tmp_path):
    text = MINIMAL.replace("trainer/trainer.py", "trainer/missing.py") + "schema: schemas/none.pbtxt\n"
    found = {key: message for key, _, message in problems(write_config(tmp_path, text))}
    assert set(found) == {"stages.trainer.module_file", "schema"}
    assert "missing.py" in found["stages.trainer.module_file"]
    assert "none.pbtxt" in found["schema"]


@pytest.mark.parametrize(
    "gate, expected",
    [
        ("auc: {min: 1.5}", "thresholds.auc.min: 1.5 is outside [0, 1]"),
        ("binary_accuracy: {max_regression: 2}", "thresholds.binary_accuracy.max_regression: 2.0 is outside [0, 1]"),
        ("auc: {min: 0.9, max: 0.8}", "min (0.9) is greater than max (0.8)"),
        ("auc: {}", "set at least one of min, max, max_regression"),
        ("auc: {min: .nan}", "must be a finite number"),
        ("recall: {max_regression: -0.1}", "greater than or equal to 0"),
        ("f1_scor: {min: 0.5}", "thresholds.f1_scor: unknown metric"),
    ],
)
def test_bad_thresholds_are_rejected(tmp_path, gate, expected):
    text = MINIMAL + f"  evaluation:\n    thresholds:\n      {gate}\n"
    text = text.replace("  push:\n    root: serving\n", "") + "  push:\n    root: serving\n"
    found = problems(write_config(tmp_path, text))
    assert any(key.startswith("stages.evaluation") and expected in message for key, _, message in found), found


def test_pipeline_name_must_be_kubeflow_safe(tmp_path):
    path = write_config(tmp_path, MINIMAL.replace("name: demo", "name: My_Pipeline"))
    [(key, line, message)] = problems(path)
    assert (key, line) == ("pipeline.name", 2)
    assert "[a-z0-9]" in message


def test_missing_required_section(tmp_path):
    text = MINIMAL[: MINIMAL.index("stages:")]
    [(key, _, message)] = problems(write_config(tmp_path, text))
    assert key == "stages"
    assert message == "required key is missing"


def test_push_without_evaluation_is_refused(tmp_path):
    path = write_config(tmp_path, MINIMAL)
    [(key, _, message)] = problems(path, overrides=["stages.evaluation.enabled=false"])
    assert key == "stages"
    assert "push.enabled requires evaluation.enabled" in message


def test_all_problems_are_reported_together(tmp_path):
    text = MINIMAL.replace("name: demo", "name: Bad Name").replace("train_steps: 10", "train_steps: 0")
    keys = {key for key, _, _ in problems(write_config(tmp_path, text))}
    assert keys == {"pipeline.name", "stages.trainer.train_steps"}


def test_set_overrides_any_key_with_yaml_values(tmp_path):
    path = write_config(tmp_path, MINIMAL)
    config = load_config(
        path,
        overrides=[
            "stages.trainer.train_steps=3",
            "stages.trainer.hyperparameters.hidden_units=[4, 2]",
            "runner.beam.direct_running_mode=multi_processing",
            "runner.beam.direct_num_workers=2",
        ],
    )
    assert config.stages.trainer.train_steps == 3
    assert config.stages.trainer.hyperparameters == {"hidden_units": [4, 2]}
    assert "--direct_running_mode=multi_processing" in config.runner.beam.pipeline_args()


def test_bad_set_value_says_it_came_from_set(tmp_path):
    [(key, line, message)] = problems(write_config(tmp_path, MINIMAL), overrides=["stages.trainer.eval_steps=lots"])
    assert key == "stages.trainer.eval_steps"
    assert line is None
    assert "(from --set)" in message


@pytest.mark.parametrize("override", ["novalue", "=3", "a..b=1"])
def test_malformed_set_is_rejected(tmp_path, override):
    [(_, _, message)] = problems(write_config(tmp_path, MINIMAL), overrides=[override])
    assert "--set expects key.path=value" in message


def test_set_through_a_scalar_is_rejected(tmp_path):
    [(key, _, message)] = problems(write_config(tmp_path, MINIMAL), overrides=["data.label.x=1"])
    assert key == "data.label.x"
    assert "data.label is not a mapping" in message


def test_invalid_yaml_names_the_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("pipeline:\n  name: [unclosed\n")
    [(_, line, message)] = problems(path)
    assert line is not None and "not valid YAML" in message


def test_missing_config_file(tmp_path):
    [(_, _, message)] = problems(tmp_path / "absent.yaml")
    assert message == "config file not found"


def test_beam_options_must_be_flags(tmp_path):
    [(key, _, message)] = problems(write_config(tmp_path, MINIMAL), overrides=["runner.beam.options=[runner=Flink]"])
    assert key == "runner.beam.options"
    assert "is not a Beam option" in message


def test_span_pattern_path_splits_into_base_and_pattern(tmp_path):
    path = write_config(tmp_path, MINIMAL)
    for span in (3, 12):
        (tmp_path / "drops" / f"span-{span}").mkdir(parents=True)
        (tmp_path / "drops" / f"span-{span}" / "part.csv").write_text("a,b\n1,2\n")
    config = load_config(path, overrides=["data.path=drops/span-{SPAN}/*.csv", "data.span=3"])
    assert config.data.input_base == tmp_path / "drops"
    assert config.data.input_pattern == "span-{SPAN}/*.csv"
    assert config.data.span == 3 and config.data.has_span


def test_span_pattern_matching_nothing_is_named(tmp_path):
    path = write_config(tmp_path, MINIMAL)
    [(key, _, message)] = problems(path, overrides=["data.path=drops/span-{SPAN}/*.csv"])
    assert key == "data.path" and "span pattern matches no file" in message and "span-{SPAN}" in message


@pytest.mark.parametrize("value, accepted", [(0, True), (25, True), (0.01, True), (-1, False), (1.5, False)])
def test_max_bad_rows_is_a_count_or_a_fraction(tmp_path, value, accepted):
    path = write_config(tmp_path, MINIMAL)
    if accepted:
        assert load_config(path, overrides=[f"data.max_bad_rows={value}"]).data.max_bad_rows == value
    else:
        [(key, _, _)] = problems(path, overrides=[f"data.max_bad_rows={value}"])
        assert key == "data.max_bad_rows"


def test_a_later_span_may_add_a_column_but_unversioned_files_share_one_header(tmp_path):
    path = write_config(tmp_path, MINIMAL)
    for span, header in ((1, "a,b"), (2, "a,b,c")):
        (tmp_path / "drops" / f"span-{span}").mkdir(parents=True)
        (tmp_path / "drops" / f"span-{span}" / "part.csv").write_text(
            f"{header}\n1,2{',3' * (header.count(',') - 1)}\n"
        )
    assert load_config(path, overrides=["data.path=drops/span-{SPAN}/*.csv"]).data.has_span
    [(key, _, message)] = problems(path, overrides=["data.path=drops/*/*.csv"])
    assert key == "data.path" and "span-2/part.csv: line 1: header differs from" in message


def test_missing_value_tokens_default_to_arrows_and_an_override_replaces_them(tmp_path):
    from tfxgate.components.ingest.null_values import DEFAULT_NULL_VALUES

    path = write_config(tmp_path, MINIMAL)
    assert load_config(path).data.null_values == list(DEFAULT_NULL_VALUES)
    assert load_config(path, overrides=["data.null_values=['?', NA]"]).data.null_values == ["?", "NA"]


def test_split_key_names_existing_columns_and_excludes_key(tmp_path):
    path = write_config(tmp_path, MINIMAL)
    assert load_config(path, overrides=["data.split_key=[b, a]"]).data.split_key == ["b", "a"]
    found = problems(path, overrides=["data.split_key=[a, c]"])
    where = f"column 'c' is not in the header of {tmp_path / 'data.csv'} (2 features) (from --set)"
    assert ("data.split_key", None, where) in found
    [(key, _, message)] = problems(path, overrides=["data.split_key=[a]", "data.key=a"])
    assert key == "data" and "set either key (one column, CsvExampleGen's hash) or split_key, not both" in message
    [(key, _, message)] = problems(path, overrides=["data.split_key=[]"])
    assert key == "data.split_key" and "at least 1 item" in message
