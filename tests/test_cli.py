import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.helpers import digest, tone_mix, write_audio


@pytest.fixture
def song(tmp_path: Path) -> Path:
    return write_audio(tmp_path / "in" / "song.wav", tone_mix(2.0, 44100), 44100, "PCM_24")


def test_separates_file_keeping_rate_channels_depth(cli, song: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    before = digest(song)
    code, stdout, _ = cli(song, "-o", tmp_path / "out")
    assert code == 0, stdout
    v, a = tmp_path / "out/song/vocals.wav", tmp_path / "out/song/accompaniment.wav"
    for p in (v, a):
        info = sf.info(str(p))
        assert (info.samplerate, info.channels, info.subtype) == (44100, 2, "PCM_24")
    mix, _ = sf.read(str(song))
    total = sf.read(str(v))[0] + sf.read(str(a))[0]
    assert np.max(np.abs(total - mix)) < 3e-7 * 4  # 24-bit rounding of two stems
    assert digest(song) == before
    assert "1 separated, 0 skipped, 0 failed" in stdout


def test_folder_glob_format_sample_rate_stems_and_report(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    music = tmp_path / "music"
    write_audio(music / "a" / "one.flac", tone_mix(1.0, 22050, 1), 22050)
    write_audio(music / "b" / "two.wav", tone_mix(1.0, 48000, 2), 48000)
    (music / "notes.txt").write_text("not audio")
    out = tmp_path / "out"
    code, _, _ = cli(
        music,
        "-o",
        out,
        "--format",
        "flac",
        "--sample-rate",
        "16000",
        "--stems",
        "vocals",
        "--filename",
        "{dir}/{track}-{stem}.{ext}",
        "--report",
        tmp_path / "r.json",
        "-q",
    )
    assert code == 0
    one = sf.info(str(out / "a" / "one-vocals.flac"))
    assert (one.samplerate, one.channels) == (16000, 1)
    assert sf.info(str(out / "b" / "two-vocals.flac")).channels == 2
    assert not list(out.rglob("*accompaniment*"))
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["totals"] == {**report["totals"], "ok": 2, "failed": 0}
    f = report["files"][0]
    assert f["provider"] == "CPUExecutionProvider" and f["duration_s"] == pytest.approx(1.0, abs=1e-3)
    assert f["x_realtime"] > 0 and f["rtf"] > 0 and set(f["outputs"]) == {"vocals"}

    code, _, _ = cli(tmp_path / "music" / "**" / "*.wav", "-o", tmp_path / "glob", "-q")
    assert code == 0 and (tmp_path / "glob" / "two" / "vocals.wav").exists()


def test_shifts_option_is_used_and_reported(cli, song: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    outputs = {}
    for shifts in (1, 3):
        out = tmp_path / f"out{shifts}"
        code, _, stderr = cli(song, "-o", out, "--shifts", shifts, "--report", out / "r.json", "-q")
        assert code == 0, stderr
        assert json.loads((out / "r.json").read_text())["shifts"] == shifts
        outputs[shifts] = sf.read(str(out / "song" / "vocals.wav"))[0]
    mix = sf.read(str(song))[0]
    assert outputs[3].shape == mix.shape
    assert np.max(np.abs(outputs[3] - outputs[1])) > 1e-3  # three passes averaged, not one


def test_existing_outputs_error_overwrite_and_skip(cli, song: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    assert cli(song, "-o", out, "-q")[0] == 0
    vocals = out / "song" / "vocals.wav"
    stamp = digest(vocals)
    code, _, stderr = cli(song, "-o", out, "-q")
    assert code == 1 and "exists; pass --overwrite or --skip-existing" in stderr
    code, stdout, _ = cli(song, "-o", out, "--skip-existing")
    assert code == 0 and "1 skipped" in stdout
    vocals.write_bytes(b"old")
    assert cli(song, "-o", out, "--overwrite", "-q")[0] == 0
    assert digest(vocals) == stamp
    code, _, stderr = cli(song, "-o", out, "--overwrite", "--skip-existing")
    assert code == 2 and "exclude each other" in stderr


def _float_wav_with_nan(path: Path) -> Path:
    x = tone_mix(1.0, 16000)
    x[0, 500] = np.nan
    return write_audio(path, x, 16000, "FLOAT")


BAD_INPUTS = {
    "missing.wav": (None, "no such file or folder"),
    "text.mp3": (lambda p: p.write_text("definitely not an mp3\n" * 50), "cannot decode"),
    "empty.wav": (lambda p: p.write_bytes(b""), "empty file"),
    "zero.wav": (lambda p: write_audio(p, np.zeros((2, 0), np.float32), 16000), "empty (0 samples)"),
    "short.wav": (lambda p: write_audio(p, tone_mix(0.01, 16000), 16000), "too short"),
    "nan.wav": (_float_wav_with_nan, "NaN or infinite"),
    "truncated.flac": (
        lambda p: (write_audio(p, tone_mix(3.0, 16000), 16000), p.write_bytes(p.read_bytes()[:4000])),
        "",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_gets_one_line_error_and_others_continue(cli, tmp_path: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    make, message = BAD_INPUTS[name]
    bad = tmp_path / "in" / name
    bad.parent.mkdir(parents=True, exist_ok=True)
    if make:
        make(bad)
    good = write_audio(tmp_path / "in" / "good.wav", tone_mix(1.0, 16000), 16000)
    before = digest(bad) if bad.exists() else None
    code, stdout, stderr = cli(bad, good, "-o", tmp_path / "out", "-q")
    if name == "truncated.flac" and code == 0:
        # libsndfile may decode the intact part; then the output must be complete and readable
        assert sf.info(str(tmp_path / "out/truncated/vocals.wav")).frames > 0
    else:
        assert code == 1
        lines = [ln for ln in stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error:") and name in lines[0]
        assert message in lines[0]
        assert "Traceback" not in stderr
        assert not (tmp_path / "out" / Path(name).stem).exists()
    assert (tmp_path / "out/good/vocals.wav").exists()
    assert (digest(bad) if bad.exists() else None) == before
    assert not list((tmp_path / "out").rglob("*.partial*"))


@pytest.mark.parametrize("rate,channels", [(8000, 1), (192000, 2), (44100, 6)])
def test_odd_rates_and_channel_counts(cli, tmp_path: Path, rate: int, channels: int) -> None:  # type: ignore[no-untyped-def]
    src = write_audio(tmp_path / "x.wav", tone_mix(1.0, rate, channels), rate, "PCM_16")
    assert cli(src, "-o", tmp_path / "out", "-q")[0] == 0
    info = sf.info(str(tmp_path / "out/x/accompaniment.wav"))
    assert (info.samplerate, info.channels, info.frames) == (rate, channels, rate)


def test_usage_errors_exit_2(cli, song: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cases = [
        (["--mask", "fuzzy"], "Invalid value for '--mask': 'fuzzy' is not one of 'soft', 'binary'"),
        (["--format", "ogg"], "'ogg' is not one of 'wav', 'flac', 'mp3'"),
        (["--device", "gpu"], "unknown device 'gpu'"),
        (["--filename", "{track}.{ext}"], "must contain {stem}"),
        (["--filename", "{nope}/{stem}"], "unknown field {nope}"),
        (["--stems", "drums"], "unknown stem drums"),
        (["--model", "nope"], "unknown model 'nope'; installed models: tiny-conv, tiny-rnn"),
        (["--chunk-seconds", "0"], "--chunk-seconds must be positive"),
        (["--shifts", "0"], "--shifts 0: must be between 1 and 16"),
        (["--shifts", "17"], "--shifts 17: must be between 1 and 16"),
        (["--bit-depth", "float", "--format", "flac"], "not possible in flac"),
    ]
    for extra, message in cases:
        code, _, stderr = cli(song, "-o", tmp_path / "out", *extra)
        assert code == 2, (extra, stderr)
        assert message in stderr and "Traceback" not in stderr
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("*.wav"))


def test_collisions_and_output_equal_to_input(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a = write_audio(tmp_path / "a" / "song.wav", tone_mix(1.0, 16000), 16000)
    b = write_audio(tmp_path / "b" / "song.wav", tone_mix(1.0, 16000, seed=2), 16000)
    # the default layout numbers the second song instead of stopping the batch
    code, _, stderr = cli(a, b, "-o", tmp_path / "out", "-q")
    assert code == 0, stderr
    assert (tmp_path / "out" / "song" / "vocals.wav").exists() and (tmp_path / "out" / "song-2" / "vocals.wav").exists()
    # a template of the user's: the clashing file is reported, the other separated
    code, _, stderr = cli(a, b, "-o", tmp_path / "mine", "--filename", "{track}_{stem}.{ext}", "-q")
    assert code == 1 and "would both write" in stderr and "{name}" in stderr
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["song_accompaniment.wav", "song_vocals.wav"]
    before = digest(a)
    code, _, stderr = cli(a, "-o", tmp_path, "--filename", "a/{track}.{ext}", "--stems", "vocals", "--overwrite")
    assert code == 1 and "would overwrite the input" in stderr
    assert digest(a) == before


def test_same_name_other_extension_and_odd_names_do_not_stop_a_batch(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    music = tmp_path / "music"
    wav = write_audio(music / "song.wav", tone_mix(1.0, 16000), 16000)
    flac = write_audio(music / "song.flac", tone_mix(1.0, 16000, seed=3), 16000)
    odd = music / "...wav"
    sf.write(str(odd), tone_mix(1.0, 16000, seed=4).T, 16000, format="WAV")
    code, _, stderr = cli(wav, flac, odd, "-o", tmp_path / "default", "-q")
    assert code == 1, stderr  # '...wav' is named '..' by {track}: reported; the other two are separated
    assert "...wav" in stderr and "must be a relative path" in stderr
    assert {p.name for p in (tmp_path / "default").iterdir()} == {"song", "song-2"}
    code, _, stderr = cli(wav, flac, odd, "-o", tmp_path / "named", "-q", "--filename", "{name}/{stem}.{ext}")
    assert code == 0, stderr
    assert {p.name for p in (tmp_path / "named").iterdir()} == {"song.wav", "song.flac", "...wav"}


def test_unwritable_output_folder(cli, song: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    code, _, stderr = cli(song, "-o", blocker / "out")
    assert code == 2 and "is not writable" in stderr


def test_broken_model_file_is_environment_error(cli, song: Path, tmp_path: Path, models_dir: Path) -> None:  # type: ignore[no-untyped-def]
    for ext in (".onnx", ".json"):
        (tmp_path / f"tiny-rnn{ext}").write_bytes((models_dir / f"tiny-rnn{ext}").read_bytes())
    (tmp_path / "tiny-rnn.onnx").write_bytes(b"garbage")
    code, _, stderr = cli(song, "-o", tmp_path / "out", "--model", tmp_path / "tiny-rnn.onnx")
    assert code == 3 and "does not match its manifest" in stderr


def test_no_model_installed_fails_clearly(cli, song: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("VOCALSPLIT_MODELS", str(tmp_path / "empty"))
    code, _, stderr = cli(song, "-o", tmp_path / "out")
    assert code == 3 and "no separation model is installed" in stderr
    assert not (tmp_path / "out").exists()


def test_cuda_request_is_used_or_exits_3(cli, song: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, _, stderr = cli(song, "-o", tmp_path / "out", "--device", "cuda", "-q")
    assert code in (0, 3)
    if code == 3:
        assert "--device cuda" in stderr and "--device cpu" in stderr


def test_models_and_doctor_commands(cli) -> None:  # type: ignore[no-untyped-def]
    code, stdout, _ = cli("models", "--json")
    assert code == 0
    names = [m["name"] for m in json.loads(stdout)["models"]]
    assert names == ["tiny-conv", "tiny-rnn"]
    code, stdout, _ = cli("doctor")
    assert code == 0
    assert "CPUExecutionProvider usable: yes" in stdout and "model tiny-rnn: ok" in stdout


def test_help_imports_neither_onnxruntime_nor_torch() -> None:
    code = (
        "import sys\nfrom vocalsplit.cli import app\n"
        "try:\n    app(['--help'], prog_name='vocalsplit')\nexcept SystemExit:\n    pass\n"
        "assert 'onnxruntime' not in sys.modules and 'torch' not in sys.modules, 'heavy import'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "separate" in result.stdout and "doctor" in result.stdout


def test_console_script_routes_files_to_separate(tmp_path: Path, song: Path, models_dir: Path) -> None:
    env = {"VOCALSPLIT_MODELS": str(models_dir), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "vocalsplit", str(song), "-o", str(tmp_path / "o"), "-q", "--model", "tiny-conv"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and (tmp_path / "o/song/vocals.wav").exists()


def test_folder_without_audio_and_glob_without_match(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    empty = tmp_path / "docs"
    empty.mkdir()
    (empty / "readme.txt").write_text("no audio here")
    code, _, stderr = cli(empty, tmp_path / "nothing*.wav", "-o", tmp_path / "out", "-q")
    assert code == 1
    assert "folder holds no audio files" in stderr and "pattern matches no audio files" in stderr
    assert (empty / "readme.txt").read_text() == "no audio here"


def test_interrupted_file_leaves_no_output(rnn_separator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from vocalsplit.separation.files import OutputOptions
    from vocalsplit.separation.inputs import InputFile

    song = write_audio(tmp_path / "song.wav", tone_mix(3.0, 16000), 16000)
    plan = rnn_separator.plan([InputFile(song, "")], tmp_path / "out")[0][0]

    def interrupt(seconds: float) -> None:
        if seconds > 1.0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rnn_separator.write_stems(plan, OutputOptions(block_frames=8000), progress=interrupt)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*"))


def test_output_folder_inside_input_folder_is_not_rescanned(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    music = tmp_path / "music"
    write_audio(music / "a.wav", tone_mix(1.0, 16000), 16000)
    assert cli(music, "-o", music / "separated", "-q")[0] == 0
    code, stdout, _ = cli(music, "-o", music / "separated", "--skip-existing")
    assert code == 0 and "0 separated, 1 skipped" in stdout


def test_models_list_prefers_the_default_number_of_shifts() -> None:
    from vocalsplit.cli.models import _shifted_figures

    def entry(g: float) -> dict[str, object]:
        return {"soft": {"GNSDR": g}}

    assert _shifted_figures(
        {"mir1k_test": entry(7.3), "mir1k_test_shifts4": entry(7.5), "mir1k_test_shifts2": entry(7.4)}
    ) == (2, 7.4)
    assert _shifted_figures({"mir1k_test_shifts4": entry(7.5), "mir1k_test_shifts8": entry(7.6)}) == (8, 7.6)
    assert (
        _shifted_figures({"mir1k_test": entry(7.3), "mir1k_test_shiftsX": entry(1.0), "mir1k_test_shifts3": "?"})
        is None
    )


def test_models_list_shows_each_source_of_a_four_source_evaluation() -> None:
    from vocalsplit.cli.models import _quality

    stems = {"GNSDR": 1.5, "vocals_SDR_median": 2.0, "acc_SDR_median": 9.0, "drums_SDR_median": 5.25}
    text = _quality({"stems_shifts2": {"soft": {**stems, "bass_SDR_median": 1.0}, "shifts": 2}})
    assert text == "stems: vocals NSDR 1.50 dB, SDR 2.00 dB, drums 5.25, bass 1.00 dB (2 passes)"
    assert _quality({"stems": {"soft": {"GNSDR": 1.5, "vocals_SDR_median": 2.0}}}) == (
        "stems: vocals NSDR 1.50 dB, SDR 2.00 dB (1 pass)"
    )
    both = {"stems": {"soft": {"GNSDR": 1.0}}, "stems_shifts2": {"soft": {"GNSDR": 1.1}, "shifts": 2}}
    assert _quality(both, passes=1) == "stems: vocals NSDR 1.00 dB (1 pass)"  # the model's own passes first
    assert _quality(both, passes=2) == "stems: vocals NSDR 1.10 dB (2 passes)"


def test_models_list_and_separation_use_a_models_own_passes(cli, song: Path, tmp_path: Path, models_dir: Path) -> None:  # type: ignore[no-untyped-def]
    own = tmp_path / "models"
    own.mkdir()
    for ext in (".onnx", ".json"):
        (own / f"one-pass{ext}").write_bytes((models_dir / f"tiny-rnn{ext}").read_bytes())
    manifest = json.loads((own / "one-pass.json").read_text())
    manifest.update(name="one-pass", file="one-pass.onnx", shifts=1, default=False)
    (own / "one-pass.json").write_text(json.dumps(manifest))
    code, stdout, _ = cli("models", "--models-dir", own, "--json")
    assert code == 0
    passes = {m["name"]: m["passes"] for m in json.loads(stdout)["models"]}
    assert passes["one-pass"] == 1 and passes["tiny-rnn"] == 2
    for model, expected in (("one-pass", 1), ("tiny-rnn", 2)):
        out = tmp_path / model
        code, _, _ = cli(song, "-o", out, "--models-dir", own, "--model", model, "--report", out / "r.json", "-q")
        assert code == 0 and json.loads((out / "r.json").read_text())["shifts"] == expected


def test_channel_masks_option_is_used_and_reported(cli, song: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    vocals = {}
    for choice in ("shared", "separate"):
        out = tmp_path / choice
        code, _, stderr = cli(song, "-o", out, "--channel-masks", choice, "--report", out / "r.json", "-q")
        assert code == 0, stderr
        assert json.loads((out / "r.json").read_text())["channel_masks"] == choice
        vocals[choice] = sf.read(str(out / "song" / "vocals.wav"))[0]
    assert np.max(np.abs(vocals["shared"] - vocals["separate"])) > 1e-3
    code, _, stderr = cli(song, "-o", tmp_path / "bad", "--channel-masks", "joint")
    assert code == 2 and "--channel-masks" in stderr and "Traceback" not in stderr


def test_odd_option_values_are_usage_errors_not_tracebacks(cli, song: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cases = [
        (["--chunk-seconds", "inf"], "--chunk-seconds inf: at most 600"),
        (["--chunk-seconds", "1e9"], "--chunk-seconds 1000000000.0: at most 600"),
        (["--filename", "{track!x}/{stem}.{ext}"], "fields are plain names like {track}"),
        (["--filename", "{track:d}/{stem}.{ext}"], "fields are plain names like {track}"),
        (["--filename", "/tmp/{track}/{stem}.{ext}"], "must be a path relative to -o"),
        (["--stems", ","], "--stems ',' names no stem"),
        (["--models-dir", tmp_path / "modles"], f"--models-dir {tmp_path / 'modles'}: no such folder"),
    ]
    for extra, message in cases:
        code, _, stderr = cli(song, "-o", tmp_path / "out", *extra)
        assert code == 2, (extra, stderr)
        assert message in stderr and "Traceback" not in stderr, (extra, stderr)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("*.wav"))


def test_a_misspelt_models_dir_is_named_by_every_command(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for command in (["models"], ["doctor"]):
        code, _, stderr = cli(*command, "--models-dir", tmp_path / "nope")
        assert code == 2 and f"--models-dir {tmp_path / 'nope'}: no such folder" in stderr, stderr
        assert "Traceback" not in stderr


def _wait_for(predicate, seconds: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    import time

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return False


@pytest.mark.parametrize(("signame", "files"), [("SIGTERM", 1), ("SIGHUP", 1), ("SIGTERM", 3)])
def test_terminated_run_cleans_up_and_says_so(models_dir: Path, tmp_path: Path, signame: str, files: int) -> None:
    import signal
    import subprocess
    import sys

    for i in range(files):  # long enough to be mid-run when signalled; a folder's files run two at a time
        write_audio(tmp_path / "music" / f"long{i}.wav", tone_mix(180.0, 16000, seed=i), 16000, "PCM_16")
    song = tmp_path / "music" if files > 1 else tmp_path / "music" / "long0.wav"
    out = tmp_path / "out"
    env = {**__import__("os").environ, "VOCALSPLIT_MODELS": str(models_dir)}
    command = [sys.executable, "-m", "vocalsplit", song, "-o", out, "--shifts", "16", "--chunk-seconds", "1"]
    proc = subprocess.Popen([str(c) for c in command], stderr=subprocess.PIPE, text=True, env=env)
    assert _wait_for(lambda: any(out.rglob(".*.partial-*"))), "the run never started writing"
    proc.send_signal(getattr(signal, signame))
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + getattr(signal, signame), stderr
    assert f"interrupted ({signame})" in stderr and "Traceback" not in stderr
    assert not out.exists() or not [p for p in out.rglob("*") if p.is_file()]


def test_partials_of_dead_runs_are_removed_at_the_next_start(cli, song: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    folder = tmp_path / "out" / song.stem
    folder.mkdir(parents=True)
    stale = folder / f".vocals.partial-{dead.pid}.wav"
    stale.write_bytes(b"RIFF....")
    alive = folder / f".vocals.partial-{__import__('os').getppid()}.wav"  # a live process: another run
    alive.write_bytes(b"RIFF....")
    code, _, stderr = cli(song, "-o", tmp_path / "out", "-q")
    assert code == 0, stderr
    assert not stale.exists() and alive.exists()
    assert (folder / "vocals.wav").exists()


@pytest.mark.parametrize("ext", ["wav", "flac"])
def test_truncated_input_is_separated_with_a_warning_in_the_terminal_and_the_report(
    cli, tmp_path: Path, ext: str
) -> None:  # type: ignore[no-untyped-def]
    full = write_audio(tmp_path / f"full.{ext}", tone_mix(10.0, 16000), 16000, "PCM_16")
    cut = tmp_path / f"cut.{ext}"
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) // 10])
    code, _, stderr = cli(cut, "-o", tmp_path / "out", "--report", tmp_path / "r.json")
    report = json.loads((tmp_path / "r.json").read_text())
    assert code == 0, stderr
    said = "10.00 s its header announces" if ext == "wav" else "the stems end there"  # FLAC: the decoder fails
    assert "warning:" in stderr and said in stderr
    assert report["totals"]["warnings"] >= 1 and said in report["files"][0]["warnings"][-1]
    code, _, stderr = cli(full, "-o", tmp_path / "out2", "-q")
    assert code == 0 and "warning" not in stderr


def test_a_damaged_flac_frame_is_replaced_by_silence_and_the_rest_separated(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    song = write_audio(tmp_path / "song.flac", tone_mix(10.0, 16000), 16000, "PCM_16")
    data = bytearray(song.read_bytes())
    for k in range(5):
        data[len(data) // 2 + 7 * k] ^= 0x10
    song.write_bytes(bytes(data))
    code, _, stderr = cli(song, "-o", tmp_path / "out", "-q")
    assert code == 0, stderr
    assert "decoding failed at" in stderr and "replaced by silence" in stderr and "Traceback" not in stderr
    assert sf.info(str(tmp_path / "out" / "song" / "vocals.wav")).frames == 160000  # the whole song


def test_an_output_written_meanwhile_by_another_run_is_never_replaced(rnn_separator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from vocalsplit.choices import Existing
    from vocalsplit.errors import OutputError
    from vocalsplit.separation.files import OutputOptions
    from vocalsplit.separation.inputs import InputFile

    song = write_audio(tmp_path / "song.wav", tone_mix(3.0, 16000), 16000)
    plan = rnn_separator.plan([InputFile(song, "")], tmp_path / "out")[0][0]
    theirs = plan.outputs["vocals"]

    def other_run_finishes_first(seconds: float) -> None:
        if seconds > 1.0 and not theirs.exists():
            theirs.write_bytes(b"the other run's stem")

    with pytest.raises(OutputError, match="exists"):
        rnn_separator.write_stems(plan, OutputOptions(block_frames=8000), progress=other_run_finishes_first)
    assert theirs.read_bytes() == b"the other run's stem"
    assert not list(theirs.parent.glob(".*partial*"))
    # with --overwrite the same situation replaces it, as asked
    theirs.unlink()
    result = rnn_separator.write_stems(
        plan, OutputOptions(block_frames=8000, existing=Existing.OVERWRITE), progress=other_run_finishes_first
    )
    assert result.status == "ok" and sf.info(str(theirs)).frames == 48000


def test_a_report_that_cannot_be_written_is_refused_before_any_work(cli, song: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "reports"
    folder.mkdir()
    code, _, stderr = cli(song, "-o", tmp_path / "out", "--report", folder)
    assert code == 2 and f"--report {folder} is a folder" in stderr
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    code, _, stderr = cli(song, "-o", tmp_path / "out", "--report", blocked / "r.json")
    assert code == 2 and "cannot write there" in stderr
    assert not (tmp_path / "out").exists()  # nothing was separated


def test_clipped_stems_are_counted_and_said_and_float_output_keeps_them(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    t = np.arange(3 * 16000) / 16000
    square = np.sign(np.sin(2 * np.pi * 110 * t))[None].repeat(2, axis=0).astype(np.float32)  # full scale
    song = write_audio(tmp_path / "loud.wav", square * 0.999, 16000, "PCM_16")
    code, _, stderr = cli(song, "-o", tmp_path / "out", "-q", "--mask", "binary", "--report", tmp_path / "r.json")
    assert code == 0, stderr
    warnings = json.loads((tmp_path / "r.json").read_text())["files"][0]["warnings"]
    assert warnings and all("passed full scale" in w and "--bit-depth float" in w for w in warnings)
    assert "passed full scale" in stderr
    code, _, stderr = cli(song, "-o", tmp_path / "float", "-q", "--mask", "binary", "--bit-depth", "float")
    assert code == 0 and "full scale" not in stderr
    vocals, _ = sf.read(str(tmp_path / "float" / "loud" / "vocals.wav"))
    acc, _ = sf.read(str(tmp_path / "float" / "loud" / "accompaniment.wav"))
    assert max(np.max(np.abs(vocals)), np.max(np.abs(acc))) > 1.0  # kept, not clamped
    assert np.max(np.abs(vocals + acc - sf.read(str(song))[0])) < 1e-4


def test_a_digitally_silent_input_gets_silent_stems_and_a_warning(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    silent = write_audio(tmp_path / "silent.wav", np.zeros((2, 16000), np.float32), 16000, "PCM_16")
    code, _, stderr = cli(silent, "-o", tmp_path / "out", "-q")
    assert code == 0, stderr
    assert "digitally silent" in stderr
    for stem in ("vocals", "accompaniment"):
        audio, _ = sf.read(str(tmp_path / "out" / "silent" / f"{stem}.wav"))
        assert audio.shape == (16000, 2) and not audio.any()


def test_a_file_named_like_an_option_gets_a_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    import sys

    from vocalsplit.cli import main

    monkeypatch.chdir(tmp_path)
    write_audio(tmp_path / "-song.wav", tone_mix(1.0, 16000), 16000)
    monkeypatch.setattr(sys, "argv", ["vocalsplit", "-song.wav", "-o", "out"])
    with pytest.raises(SystemExit) as stop:
        main()
    assert stop.value.code == 2
    assert "'-song.wav' is a file whose name starts with '-': write ./-song.wav" in capsys.readouterr().err
    monkeypatch.setattr(sys, "argv", ["vocalsplit", "-o", "out", "-q", "--", "-song.wav"])
    with pytest.raises(SystemExit) as stop:
        main()
    assert stop.value.code == 0 and (tmp_path / "out" / "-song" / "vocals.wav").exists()


def test_mp3_limits_are_met_or_said_before_the_work(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    six = write_audio(tmp_path / "six.wav", tone_mix(1.0, 16000, channels=6), 16000)
    hi = write_audio(tmp_path / "hi.wav", tone_mix(1.0, 96000), 96000)
    code, _, stderr = cli(six, hi, "-o", tmp_path / "out", "--format", "mp3", "-q")
    assert code == 1, stderr  # the 6-channel file is refused, the 96 kHz one written at 48 kHz
    assert "6 channels; mp3 holds at most 2: use --format flac or wav" in stderr
    assert "mp3 cannot hold 96000 Hz: stems written at 48000 Hz" in stderr
    assert sf.info(str(tmp_path / "out" / "hi" / "vocals.mp3")).samplerate == 48000
    assert not (tmp_path / "out" / "six").exists()
    code, _, stderr = cli(hi, "-o", tmp_path / "out2", "--format", "mp3", "--sample-rate", "96000")
    assert code == 2 and "mp3 holds only" in stderr


def test_text_named_like_audio_is_not_an_audio_file(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fake = tmp_path / "notes.flac"
    fake.write_text("these are my notes, not a song\n" * 20)
    code, _, stderr = cli(fake, "-o", tmp_path / "out", "-q")
    assert code == 1 and "not an audio file" in stderr and "0 samples" not in stderr


def test_a_wav_whose_header_sizes_are_zero_is_read_to_the_end(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import struct
    import wave

    pcm = (tone_mix(3.0, 16000) * 32767).astype("<i2")
    path = tmp_path / "crashed.wav"
    with wave.open(str(path), "wb") as w:  # a plain RIFF: fmt and data chunks only
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(pcm.T.tobytes())
    data = bytearray(path.read_bytes())
    at = data.find(b"data")
    data[4:8] = data[at + 4 : at + 8] = struct.pack("<I", 0)  # what a crashed recorder leaves
    path.write_bytes(bytes(data))
    code, _, stderr = cli(path, "-o", tmp_path / "out", "-q")
    assert code == 0, stderr
    vocals, _ = sf.read(str(tmp_path / "out" / "crashed" / "vocals.wav"))
    acc, _ = sf.read(str(tmp_path / "out" / "crashed" / "accompaniment.wav"))
    assert vocals.shape == (48000, 2)
    assert np.max(np.abs(vocals + acc - pcm.T / 32768.0)) < 2e-4


def test_a_cut_mp3_is_warned_about_and_the_decoders_own_notes_stay_out(models_dir: Path, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    full = tmp_path / "full.mp3"
    sf.write(str(full), tone_mix(10.0, 44100).T, 44100, format="MP3")
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 10])
    env = {**os.environ, "VOCALSPLIT_MODELS": str(models_dir)}
    command = [sys.executable, "-m", "vocalsplit", str(cut), "-o", str(tmp_path / "out"), "-q"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "truncated input" in done.stderr and "10.00 s its header announces" in done.stderr
    assert "Xing" not in done.stderr and "fuzzy seeking" not in done.stderr


def test_models_list_never_cuts_names_in_a_narrow_pipe(models_dir: Path, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from tests.model_factory import recurrent_model

    recurrent_model(models_dir / "long", name="a-model-with-a-rather-long-name-for-its-own-good")
    env = {**os.environ, "VOCALSPLIT_MODELS": str(models_dir / "long"), "COLUMNS": "80"}
    done = subprocess.run(
        [sys.executable, "-m", "vocalsplit", "models"], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "a-model-with-a-rather-long-name-for-its-own-good" in done.stdout.split()
    assert "…" not in done.stdout and "┃" not in done.stdout  # no cut cells, no box drawing in a pipe


@pytest.mark.parametrize("ext", ["wav", "flac", "mp3"])
def test_offset_and_duration_separate_an_excerpt_as_if_it_were_the_file(cli, tmp_path: Path, ext: str) -> None:  # type: ignore[no-untyped-def]
    rate = 16000 if ext != "mp3" else 44100
    song = tmp_path / f"song.{ext}"
    sf.write(str(song), tone_mix(10.0, rate, seed=8).T, rate, **({"format": "MP3"} if ext == "mp3" else {}))
    decoded, _ = sf.read(str(song), dtype="float32")
    cut = tmp_path / "cut" / "song.wav"
    cut.parent.mkdir()
    sf.write(str(cut), decoded[2 * rate : 5 * rate], rate, subtype="FLOAT")
    code, _, stderr = cli(
        song, "-o", tmp_path / "excerpt", "--offset", "0:02", "--duration", "3", "--bit-depth", "float"
    )
    assert code == 0, stderr
    code, _, stderr = cli(cut, "-o", tmp_path / "whole", "--bit-depth", "float", "-q")
    assert code == 0, stderr
    got, _ = sf.read(str(tmp_path / "excerpt" / "song" / "vocals.wav"))
    want, _ = sf.read(str(tmp_path / "whole" / "song" / "vocals.wav"))
    assert got.shape == want.shape == (3 * rate, 2)
    assert np.max(np.abs(got - want)) < 1e-5
    assert "warning" not in stderr


def test_excerpt_options_are_checked(cli, song: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for extra, message in [
        (["--offset", "1:75"], "--offset '1:75': give seconds (90, 12.5) or [hh:]mm:ss"),
        (["--duration", "0"], "--duration 0: must be a positive time"),
        (["--offset", "-3"], "give seconds"),
    ]:
        code, _, stderr = cli(song, "-o", tmp_path / "out", *extra)
        assert code == 2 and message in stderr, (extra, stderr)
    code, _, stderr = cli(song, "-o", tmp_path / "out", "--offset", "10:00", "-q")
    assert code == 1 and "--offset 10:00.0 is past its end" in stderr


@pytest.mark.parametrize("kbps,rate", [(320, 44100), (128, 44100), (64, 22050)])
def test_mp3_stems_have_the_asked_constant_bitrate(cli, tmp_path: Path, kbps: int, rate: int) -> None:  # type: ignore[no-untyped-def]
    song = write_audio(tmp_path / "song.wav", tone_mix(10.0, rate), rate)
    extra = [] if kbps == 320 else ["--mp3-bitrate", str(kbps)]  # 320 is the default
    code, _, stderr = cli(song, "-o", tmp_path / "out", "--format", "mp3", "--stems", "vocals", "-q", *extra)
    assert code == 0, stderr
    mp3 = tmp_path / "out" / "song" / "vocals.mp3"
    measured = mp3.stat().st_size * 8 / sf.info(str(mp3)).duration / 1000
    assert measured == pytest.approx(kbps, rel=0.04), measured


def test_mp3_bitrate_must_be_one_mp3_has(cli, song: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, _, stderr = cli(song, "-o", tmp_path / "out", "--format", "mp3", "--mp3-bitrate", "100")
    assert code == 2 and "--mp3-bitrate 100: allowed" in stderr


def test_the_cli_writes_its_lines_past_a_silenced_descriptor_2() -> None:
    """The reader points descriptor 2 at the null device for a moment while a file opens (native
    decoders' notes); a line the CLI writes then, from another file's thread, must still appear."""
    import subprocess
    import sys

    code = (
        "import os, sys\n"
        "from vocalsplit.cli import _own_stderr\n"
        "_own_stderr()\n"
        "os.dup2(os.open(os.devnull, os.O_WRONLY), 2)\n"
        "print('still here', file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stderr == "still here\n", done.stderr
