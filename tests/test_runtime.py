import json
from pathlib import Path

import numpy as np
import pytest

from vocalsplit.catalog.manifest import file_sha256, load_manifest
from vocalsplit.errors import DeviceError, ModelError, UsageError
from vocalsplit.runtime.providers import CPU, CUDA, DeviceRequest, check_actual, parse_device
from vocalsplit.runtime.session import ModelSession


def test_parse_device() -> None:
    assert parse_device("auto") == DeviceRequest("auto", 0)
    assert parse_device("cuda:1") == DeviceRequest("cuda", 1)
    for bad in ("gpu", "cpu:1", "cuda:x"):
        with pytest.raises(UsageError):
            parse_device(bad)


def test_cuda_requested_without_cuda_provider_is_environment_error() -> None:
    with pytest.raises(DeviceError) as info:
        DeviceRequest("cuda").providers([CPU])
    assert info.value.exit_code == 3


def test_silent_cpu_fallback_is_refused_for_cuda_but_reported_for_auto() -> None:
    with pytest.raises(DeviceError, match="silently run on the CPU"):
        check_actual(DeviceRequest("cuda"), [CPU])
    assert check_actual(DeviceRequest("auto"), [CPU]) == CPU
    assert check_actual(DeviceRequest("cuda"), [CUDA, CPU]) == CUDA


def test_cuda_session_on_this_machine_is_used_or_refused(models_dir: Path) -> None:
    m = load_manifest(models_dir / "tiny-rnn.json")
    try:
        session = ModelSession(m, parse_device("cuda"))
    except DeviceError as err:
        assert "cuda" in str(err)
    else:
        assert session.provider == CUDA


def test_session_runs_and_carries_state(rnn_session: ModelSession) -> None:
    mag = np.abs(np.random.default_rng(0).standard_normal((2, 10, 257))).astype(np.float32)
    state = rnn_session.initial_state(2)
    masks, state2 = rnn_session.run(mag, state)
    assert masks.shape == (2, 2, 10, 257)
    assert np.allclose(masks.sum(axis=1), 1.0, atol=1e-5)
    assert not np.allclose(state2["h_in"], 0.0)


def test_manifest_io_mismatch_is_model_error(models_dir: Path, tmp_path: Path) -> None:
    data = json.loads((models_dir / "tiny-rnn.json").read_text())
    (tmp_path / "tiny-rnn.onnx").write_bytes((models_dir / "tiny-rnn.onnx").read_bytes())
    data["io"]["input"] = "spectrogram"
    (tmp_path / "tiny-rnn.json").write_text(json.dumps(data))
    with pytest.raises(ModelError, match="do not match the manifest"):
        ModelSession(load_manifest(tmp_path / "tiny-rnn.json"), parse_device("cpu"))


def test_garbage_onnx_with_matching_sha_is_model_error(models_dir: Path, tmp_path: Path) -> None:
    data = json.loads((models_dir / "tiny-rnn.json").read_text())
    (tmp_path / "tiny-rnn.onnx").write_bytes(b"not a model at all")
    data["sha256"] = file_sha256(tmp_path / "tiny-rnn.onnx")
    (tmp_path / "tiny-rnn.json").write_text(json.dumps(data))
    with pytest.raises(ModelError, match="cannot load"):
        ModelSession(load_manifest(tmp_path / "tiny-rnn.json"), parse_device("cpu"))


def test_a_model_that_outputs_nan_fails_once_at_load_with_exit_3(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import json

    import onnx
    from onnx import numpy_helper

    from tests.helpers import tone_mix, write_audio
    from tests.model_factory import conv_model
    from vocalsplit.catalog.manifest import file_sha256

    manifest = conv_model(tmp_path / "models", name="broken")
    onnx_path = manifest.with_suffix(".onnx")
    model = onnx.load(str(onnx_path))
    for i, init in enumerate(model.graph.initializer):
        values = numpy_helper.to_array(init).copy()
        if values.dtype.kind == "f" and values.size > 1:
            values[...] = np.nan
            model.graph.initializer[i].CopyFrom(numpy_helper.from_array(values, init.name))
    onnx.save(model, str(onnx_path))
    raw = json.loads(manifest.read_text())
    raw["sha256"] = file_sha256(onnx_path)
    manifest.write_text(json.dumps(raw))
    songs = [write_audio(tmp_path / f"s{i}.wav", tone_mix(1.0, 16000), 16000) for i in range(2)]
    code, _, stderr = cli(*songs, "-o", tmp_path / "out", "--model", manifest)
    assert code == 3, stderr
    assert stderr.count("produced NaN or infinite masks") == 1 and "Traceback" not in stderr


def test_doctor_names_each_cuda_library_it_cannot_load() -> None:
    import ctypes

    from vocalsplit.runtime.diagnostics import missing_cuda_libraries

    class OnnxruntimeBuild:
        """What onnxruntime.preload_dlls prints where NVIDIA's libraries are absent."""

        @staticmethod
        def preload_dlls() -> None:
            print("Failed to load /site/nvidia/cublas/lib/libcublasLt.so.13: cannot open shared object file")
            print("Failed to load libcurand.so.10: libcurand.so.10: cannot open shared object file")
            print("Please follow https://onnxruntime.ai/docs/install/#cuda-and-cudnn to install CUDA.")

    missing = missing_cuda_libraries(OnnxruntimeBuild)
    assert missing[-2:] == ["libcublasLt.so.13", "libcurand.so.10"]
    try:
        ctypes.CDLL("libcuda.so.1")
        driver = True
    except OSError:
        driver = False
    assert ("libcuda.so.1 (the NVIDIA driver)" in missing) is not driver


def test_the_network_leaves_one_core_to_the_rest_of_the_pipeline(
    models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from vocalsplit.runtime.session import network_threads

    monkeypatch.delenv("VOCALSPLIT_THREADS", raising=False)
    manifest = load_manifest(models_dir / "tiny-rnn.json")
    for cpus, threads in ((1, 1), (2, 1), (8, 7)):
        monkeypatch.setattr(os, "sched_getaffinity", lambda _pid, n=cpus: set(range(n)), raising=False)
        assert network_threads() == threads
        assert ModelSession(manifest, parse_device("cpu")).threads == threads
    assert ModelSession(manifest, parse_device("cpu"), threads=3).threads == 3
    with pytest.raises(UsageError, match="threads must be at least 1"):
        ModelSession(manifest, parse_device("cpu"), threads=0)


def test_vocalsplit_threads_sets_the_network_threads(models_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vocalsplit.runtime.session import network_threads

    monkeypatch.setenv("VOCALSPLIT_THREADS", "3")
    assert network_threads() == 3
    assert ModelSession(load_manifest(models_dir / "tiny-rnn.json"), parse_device("cpu")).threads == 3
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv("VOCALSPLIT_THREADS", bad)
        with pytest.raises(UsageError, match="VOCALSPLIT_THREADS"):
            network_threads()
