import json
from pathlib import Path

import pytest

from vocalsplit.catalog.manifest import load_manifest
from vocalsplit.catalog.registry import list_manifests, resolve_model
from vocalsplit.errors import ModelError, ModelNotFoundError, NoModelInstalledError


def _copy_model(src_dir: Path, dst_dir: Path, name: str = "tiny-rnn") -> Path:
    dst_dir.mkdir(parents=True, exist_ok=True)
    for ext in (".onnx", ".json"):
        (dst_dir / f"{name}{ext}").write_bytes((src_dir / f"{name}{ext}").read_bytes())
    return dst_dir / f"{name}.json"


def test_default_and_named_resolution(models_dir: Path) -> None:
    assert resolve_model(None).name == "tiny-rnn"
    assert resolve_model("tiny-conv").context_left == 2
    assert resolve_model(str(models_dir / "tiny-conv.onnx")).name == "tiny-conv"


def test_unknown_name_lists_installed_models() -> None:
    with pytest.raises(ModelNotFoundError, match="installed models: tiny-conv, tiny-rnn"):
        resolve_model("nope")


def test_no_model_installed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VOCALSPLIT_MODELS", str(tmp_path))
    with pytest.raises(NoModelInstalledError, match="no separation model is installed"):
        resolve_model(None)


def test_corrupt_onnx_fails_sha_check(models_dir: Path, tmp_path: Path) -> None:
    manifest = _copy_model(models_dir, tmp_path)
    onnx_path = tmp_path / "tiny-rnn.onnx"
    onnx_path.write_bytes(onnx_path.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(ModelError, match="does not match its manifest"):
        resolve_model(str(manifest))


@pytest.mark.parametrize(
    "edit,message",
    [
        (lambda m: m.pop("sample_rate"), "missing field 'sample_rate'"),
        (lambda m: m.update(residual_source="drums"), "residual_source 'drums'"),
        (lambda m: m.update(stft={"n_fft": 1000, "hop": 300, "window": "hann"}), "multiple of hop"),
        (lambda m: m.update(schema_version=99), "schema_version 99"),
        (lambda m: m.update(mask_kind="weird"), "mask_kind 'weird'"),
        (lambda m: m.update(shifts=0), "shifts must be an integer from 1 to 16"),
        (lambda m: m.update(shifts=True), "shifts must be an integer from 1 to 16"),
    ],
)
def test_manifest_validation_names_the_field(models_dir: Path, tmp_path: Path, edit, message: str) -> None:  # type: ignore[no-untyped-def]
    path = _copy_model(models_dir, tmp_path)
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    with pytest.raises(ModelError, match=message):
        load_manifest(path)


def test_broken_manifest_is_listed_as_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    monkeypatch.setenv("VOCALSPLIT_MODELS", str(tmp_path))
    models, problems = list_manifests()
    assert models == [] and "unreadable" in problems[0]


def test_a_model_names_its_own_number_of_passes(models_dir: Path, tmp_path: Path) -> None:
    from vocalsplit.separation.separator import Separator

    assert Separator(models_dir / "tiny-rnn.json", device="cpu").shifts == 2  # none named: the default
    path = _copy_model(models_dir, tmp_path)
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "shifts": 1}))
    assert load_manifest(path).shifts == 1
    assert Separator(path, device="cpu").shifts == 1
    assert Separator(path, device="cpu", shifts=3).shifts == 3  # the user's choice wins
