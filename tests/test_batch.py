"""A run over many files: several at once, the same stems as one at a time, clean interruptions."""

import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.helpers import tone_mix, write_audio
from vocalsplit.errors import UsageError
from vocalsplit.separation.batch import prepare_batch, run_batch
from vocalsplit.separation.files import OutputOptions

OPTIONS = OutputOptions(block_frames=4000)
TEMPLATE = "{track}/{stem}.{ext}"


def _folder(tmp_path: Path, seconds: list[float]) -> Path:
    music = tmp_path / "music"
    for i, s in enumerate(seconds):
        write_audio(music / f"song{i}.wav", tone_mix(s, 16000, seed=i), 16000)
    return music


def _stems(out: Path) -> dict[str, np.ndarray]:
    return {str(p.relative_to(out)): sf.read(p, dtype="int16")[0] for p in sorted(out.rglob("*.wav"))}


def test_files_at_once_write_what_one_at_a_time_writes(rnn_separator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    music = _folder(tmp_path, [1.5, 0.7, 2.0, 1.1, 0.4])
    outputs = {}
    for at_once in (1, 2, 3):
        out = tmp_path / f"out{at_once}"
        job = prepare_batch(rnn_separator, [str(music)], out, OPTIONS, TEMPLATE)
        results = run_batch(job, files_at_once=at_once)
        assert [r.input for r in results] == [p.input.path for p in job.plans]  # in the plans' order
        assert all(r.status == "ok" for r in results)
        outputs[at_once] = _stems(out)
    assert len(outputs[1]) == 10
    for at_once in (2, 3):
        assert outputs[at_once].keys() == outputs[1].keys()
        for name, y in outputs[1].items():
            np.testing.assert_array_equal(outputs[at_once][name], y, err_msg=name)


def test_files_do_run_side_by_side_and_no_more_than_asked(rnn_separator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    music = _folder(tmp_path, [1.0] * 5)
    job = prepare_batch(rnn_separator, [str(music)], tmp_path / "out", OPTIONS, TEMPLATE)
    lock = threading.Lock()
    running: set[Path] = set()
    most = 0
    second_started = threading.Event()

    def on_start(path: Path, seconds: float) -> None:
        nonlocal most
        with lock:
            running.add(path)
            most = max(most, len(running))
            if len(running) == 2:
                second_started.set()
        # the first file holds on until a second one has started beside it (never, if files ran one by one)
        assert second_started.wait(timeout=20), "no second file started while the first was running"

    def on_end(result) -> None:  # type: ignore[no-untyped-def]
        with lock:
            running.remove(result.input)

    results = run_batch(job, on_start=on_start, on_end=on_end, files_at_once=2)
    assert [r.status for r in results] == ["ok"] * 5
    assert most == 2 and not running


def test_a_bad_file_among_files_at_once_stops_nothing_else(rnn_separator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    music = _folder(tmp_path, [1.0, 1.0, 1.0])
    job = prepare_batch(rnn_separator, [str(music)], tmp_path / "out", OPTIONS, TEMPLATE)
    (music / "song1.wav").write_bytes(b"RIFF but no longer a wave file")  # broken after it was checked
    failed: list[Path] = []
    results = run_batch(job, on_error=lambda path, error: failed.append(path), files_at_once=2)
    assert [r.status for r in results] == ["ok", "failed", "ok"]
    assert failed == [music / "song1.wav"] and "song1.wav" in str(results[1].error)
    assert sorted(p.parent.name for p in (tmp_path / "out").rglob("*.wav")) == ["song0"] * 2 + ["song2"] * 2


def test_an_interruption_stops_every_running_file_and_leaves_no_output(rnn_separator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    music = _folder(tmp_path, [3.0, 3.0, 3.0, 3.0, 3.0, 3.0])
    out = tmp_path / "out"
    job = prepare_batch(rnn_separator, [str(music)], out, OPTIONS, TEMPLATE)
    lock = threading.Lock()
    running: set[str] = set()
    finished: set[str] = set()
    at_interruption: set[str] = set()

    def on_start(path: Path, seconds: float) -> None:
        with lock:
            running.add(path.stem)

    def on_progress(path: Path, done: float) -> None:
        with lock:
            if path.name == "song1.wav" and done > 1.0:
                at_interruption.update(running)
                raise KeyboardInterrupt  # as Ctrl-C lands in the run

    def on_end(result) -> None:  # type: ignore[no-untyped-def]
        with lock:
            running.remove(result.input.stem)
            finished.add(result.input.stem)

    with pytest.raises(KeyboardInterrupt):
        run_batch(job, on_start=on_start, on_progress=on_progress, on_end=on_end, files_at_once=2)
    assert "song1" in at_interruption and len(at_interruption) <= 2
    # what finished (a file past its last block may still finish) keeps its stems; the others leave
    # nothing, not even a partial file
    written = {p.relative_to(out).parts[0] for p in out.rglob("*") if p.is_file()}
    assert written == finished and "song1" not in finished, (written, finished)
    assert all(len(list((out / name).iterdir())) == 2 for name in written)
    assert "song5" not in running | finished  # the queued files never started


def test_files_at_once_must_be_positive(rnn_separator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    job = prepare_batch(rnn_separator, [str(_folder(tmp_path, [0.5]))], tmp_path / "out", OPTIONS, TEMPLATE)
    with pytest.raises(UsageError, match="at least 1"):
        run_batch(job, files_at_once=0)


class _Signalled(BaseException):
    """Stands for KeyboardInterrupt (which pytest itself would take as a request to stop)."""


def test_a_signal_that_lands_on_a_file_thread_stops_the_run_at_once(rnn_separator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Under load the kernel may hand SIGTERM to a file's thread rather than the main thread; Python
    then runs the handler only when the main thread runs again. A main thread asleep until a file
    ended finished whole files after the signal (exit 143 26 s later, with stems written)."""
    import signal
    import time

    music = _folder(tmp_path, [30.0, 30.0])
    out = tmp_path / "out"
    job = prepare_batch(rnn_separator, [str(music)], out, OPTIONS, TEMPLATE)
    finished: list[Path] = []
    sent = threading.Event()

    def on_progress(path: Path, done: float) -> None:
        time.sleep(0.01)  # 120 blocks: more than a second a file
        if not sent.is_set():
            sent.set()
            signal.pthread_kill(threading.get_ident(), signal.SIGUSR1)  # to this file's thread, not the main one

    def handler(signum: int, frame: object) -> None:
        raise _Signalled

    previous = signal.signal(signal.SIGUSR1, handler)
    try:
        with pytest.raises(_Signalled):
            run_batch(job, on_progress=on_progress, on_end=lambda r: finished.append(r.input), files_at_once=2)
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert finished == [] and not any(out.rglob("*.wav")), (finished, sorted(out.rglob("*")))


def test_a_signal_while_files_are_being_queued_still_stops_the_running_ones(
    rnn_separator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """The first file starts while the next ones are still being queued; a signal landing then once
    left the pool waiting for every queued file to finish (two whole files written after SIGTERM)."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    from vocalsplit.separation import batch

    first_started = threading.Event()

    class SignalledWhileQueueing(ThreadPoolExecutor):
        queued = 0

        def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
            if self.queued == 1:  # the second file: the first one is under way
                assert first_started.wait(timeout=20)
                raise _Signalled  # as SIGTERM's handler raises in the main thread, inside submit
            self.queued += 1
            return super().submit(fn, *args, **kwargs)

    monkeypatch.setattr(batch, "ThreadPoolExecutor", SignalledWhileQueueing)
    music = _folder(tmp_path, [30.0, 30.0, 30.0])
    out = tmp_path / "out"
    job = prepare_batch(rnn_separator, [str(music)], out, OPTIONS, TEMPLATE)
    finished: list[Path] = []

    def on_progress(path: Path, done: float) -> None:
        first_started.set()
        time.sleep(0.01)  # 120 blocks: more than a second a file

    with pytest.raises(_Signalled):
        run_batch(job, on_progress=on_progress, on_end=lambda r: finished.append(r.input), files_at_once=2)
    assert finished == [] and not any(out.rglob("*.wav")), (finished, sorted(out.rglob("*")))
