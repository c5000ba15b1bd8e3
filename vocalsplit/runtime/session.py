"""One onnxruntime session per model, run on chunks of magnitude frames."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from vocalsplit.catalog.manifest import Manifest
from vocalsplit.errors import ModelError, UsageError
from vocalsplit.runtime.providers import DeviceRequest, check_actual


class ModelSession:
    """Runs a manifest's ONNX model: ``(batch, frames, bins)`` magnitudes to masks.

    Input frames include the model's left/right context; the output covers only the
    centre ``frames - left - right`` frames. Recurrent state, when the manifest
    declares it, is carried by the caller between calls.
    """

    def __init__(self, manifest: Manifest, device: DeviceRequest, threads: int | None = None) -> None:
        """``threads``: onnxruntime's threads for a call; ``None``: :func:`network_threads`."""
        import onnxruntime as ort

        self.manifest = manifest
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        if threads is not None and threads < 1:
            raise UsageError(f"threads must be at least 1, got {threads}")
        self.threads = network_threads() if threads is None else threads
        opts.intra_op_num_threads = self.threads
        available = ort.get_available_providers()
        providers = device.providers(available)
        if len(providers) > 1:
            _preload_cuda_libraries(ort)
        # a CUDA provider that cannot load logs C++ errors; the actual-provider check reports it
        ort.set_default_logger_severity(4)
        try:
            self._session = ort.InferenceSession(str(manifest.onnx_path), opts, providers=providers)
        except Exception as err:  # onnxruntime raises its own exception types
            raise ModelError(
                f"model {manifest.name!r}: onnxruntime cannot load {manifest.onnx_path.name} ({_first_line(err)})"
            ) from err
        finally:
            ort.set_default_logger_severity(2)
        self.provider = check_actual(device, self._session.get_providers())
        self._check_io()
        self._probe()

    def _probe(self) -> None:
        """Run the model once on a small input, so that a model whose output has the wrong shape or is
        not finite fails once, at load (exit 3), instead of failing every file."""
        m = self.manifest
        frames = 2 * m.frame_multiple + m.context_left + m.context_right
        self.run(np.full((1, frames, m.input_width), 0.1, np.float32), self.initial_state(1))

    def _check_io(self) -> None:
        m = self.manifest
        inputs = {i.name: i for i in self._session.get_inputs()}
        outputs = {o.name for o in self._session.get_outputs()}
        want_in = {m.input_name, *(s.input for s in m.states)}
        want_out = {m.output_name, *(s.output for s in m.states)}
        if set(inputs) != want_in or not want_out <= outputs:
            raise ModelError(
                f"model {m.name!r}: ONNX inputs {sorted(inputs)} / outputs {sorted(outputs)} do not match "
                f"the manifest (inputs {sorted(want_in)}, outputs {sorted(want_out)})"
            )
        shape = inputs[m.input_name].shape
        if len(shape) != 3 or (isinstance(shape[2], int) and shape[2] != m.input_width):
            raise ModelError(
                f"model {m.name!r}: input {m.input_name!r} has shape {shape}; expected (batch, frames, "
                f"{m.input_width}) for n_fft {m.stft.n_fft} and {m.channels} channel(s) at once"
            )

    def initial_state(self, batch: int) -> dict[str, np.ndarray]:
        return {s.input: np.zeros((batch, *s.shape), dtype=np.float32) for s in self.manifest.states}

    def run(self, magnitude: np.ndarray, state: dict[str, np.ndarray]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Masks ``(batch, sources_or_1, frames_out, bins)`` in [0, 1] and the next state."""
        m = self.manifest
        feeds: dict[str, Any] = {m.input_name: np.ascontiguousarray(magnitude, dtype=np.float32), **state}
        names = [m.output_name, *(s.output for s in m.states)]
        try:
            results = self._session.run(names, feeds)
        except Exception as err:
            raise ModelError(f"model {m.name!r}: inference failed ({_first_line(err)})") from err
        masks = results[0]
        expected_frames = magnitude.shape[1] - m.context_left - m.context_right
        channels_out = 1 if m.mask_kind == "probability" else len(m.sources)
        want = (magnitude.shape[0], channels_out, expected_frames, m.input_width)
        if masks.shape != want:
            raise ModelError(f"model {m.name!r}: output shape {masks.shape}, expected {want}")
        if not np.all(np.isfinite(masks)):
            raise ModelError(f"model {m.name!r}: produced NaN or infinite masks")
        new_state = {s.input: r for s, r in zip(m.states, results[1:], strict=True)}
        return masks, new_state


THREADS_ENV = "VOCALSPLIT_THREADS"


def network_threads() -> int:
    """Threads for the network: ``$VOCALSPLIT_THREADS`` if set, else every core this process may
    use but one, which the rest of the separation (decoding, resampling, FFTs, writing) has to
    itself meanwhile, as the network runs on a thread of its own (``ChunkPlanner(background=True)``).
    On 2 cores that is faster for the default and the other narrow networks, slower for the
    large DRNNs (``drnn-all``, ``drnn-wide``, ``drnn-mir1k``: 9-19 %; docs/experiments.md)."""
    given = os.environ.get(THREADS_ENV, "").strip()
    if given:
        if not given.isdigit() or int(given) < 1:
            raise UsageError(f"{THREADS_ENV}={given!r}: give a whole number of threads, at least 1")
        return int(given)
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, cpus - 1)


def _preload_cuda_libraries(ort: Any) -> None:
    """Load CUDA/cuDNN from NVIDIA's pip packages when they are installed.

    ``preload_dlls`` prints a line per missing library, so it only runs when the
    ``nvidia`` namespace package exists; whether CUDA really loaded is checked on
    the session afterwards.
    """
    import contextlib
    import importlib.util
    import io

    if not hasattr(ort, "preload_dlls") or importlib.util.find_spec("nvidia") is None:
        return
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            ort.preload_dlls()
        except Exception:  # noqa: BLE001 - absence is detected on the session
            pass


def _first_line(err: Exception) -> str:
    lines = str(err).strip().splitlines()
    return lines[0][:300] if lines else type(err).__name__
