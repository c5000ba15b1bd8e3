"""`vocalsplit - -o -`: a WAV stream in on stdin, the stems out on stdout, exactly as file mode."""

import io
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from tests.helpers import tone_mix, write_audio


def _run(models_dir: Path, args: list[str], data: bytes) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "VOCALSPLIT_MODELS": str(models_dir)}
    command = [sys.executable, "-m", "vocalsplit", "-", "-o", "-", "--model", "tiny-rnn", *args]
    return subprocess.run(command, input=data, capture_output=True, env=env, timeout=120)


def _wav_bytes(audio: np.ndarray, rate: int, subtype: str, unknown_size: bool = False) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, audio.T, rate, format="WAV", subtype=subtype)
    data = bytearray(buffer.getvalue())
    if unknown_size:  # how ffmpeg and arecord write a stream
        at = data.find(b"data")
        data[4:8] = data[at + 4 : at + 8] = struct.pack("<I", 0xFFFFFFFF)
    return bytes(data)


def _file_mode(cli, tmp_path: Path, x: np.ndarray, rate: int, subtype: str, dtype: str) -> list[np.ndarray]:  # type: ignore[no-untyped-def]
    """The same song separated in file mode: vocals, then accompaniment, read back as ``dtype``."""
    song = write_audio(tmp_path / "song.wav", x, rate, subtype)
    depth = ["--bit-depth", "float"] if subtype == "FLOAT" else []
    code, _, stderr = cli(song, "-o", tmp_path / "out", *depth, "-q")
    assert code == 0, stderr
    return [
        sf.read(str(tmp_path / "out" / "song" / f"{stem}.wav"), dtype=dtype)[0] for stem in ("vocals", "accompaniment")
    ]


def test_piped_stems_equal_file_mode_and_sum_to_the_input(models_dir: Path, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    x = tone_mix(2.0, 22050)
    done = _run(models_dir, ["--bit-depth", "float", "-q"], _wav_bytes(x, 22050, "FLOAT", unknown_size=True))
    assert done.returncode == 0, done.stderr.decode()
    piped, rate = sf.read(io.BytesIO(done.stdout), dtype="float32")
    assert rate == 22050 and piped.shape == (x.shape[1], 4)  # vocals' 2 channels, then the accompaniment's
    for i, filed in enumerate(_file_mode(cli, tmp_path, x, 22050, "FLOAT", "float32")):
        assert np.max(np.abs(piped[:, 2 * i : 2 * i + 2] - filed)) < 1e-4
    assert np.max(np.abs(piped[:, :2] + piped[:, 2:] - x.T)) < 1e-4


def test_one_stem_16_bit_keeps_the_input_channels_and_only_audio_goes_to_stdout(models_dir: Path) -> None:
    x = tone_mix(1.0, 16000, channels=1)
    done = _run(models_dir, ["--stems", "vocals"], _wav_bytes(x, 16000, "PCM_16"))
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout[:4] == b"RIFF" and b"separated 1.0 s from standard input: vocals" in done.stderr
    vocals, rate = sf.read(io.BytesIO(done.stdout), dtype="float32")
    assert rate == 16000 and vocals.shape == (16000,)


def test_a_reader_that_goes_away_ends_the_run_quietly(models_dir: Path, tmp_path: Path) -> None:
    song = tmp_path / "in.wav"
    song.write_bytes(_wav_bytes(tone_mix(20.0, 16000), 16000, "PCM_16"))
    vocalsplit = f"{sys.executable} -m vocalsplit - -o - -q --model tiny-rnn"
    script = f"cat {song} | {vocalsplit} 2> {tmp_path / 'err.txt'} | head -c 1000 > /dev/null; echo ${{PIPESTATUS[1]}}"
    env = {**os.environ, "VOCALSPLIT_MODELS": str(models_dir)}
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.stdout.strip() == "0", (done.stdout, (tmp_path / "err.txt").read_text())
    assert (tmp_path / "err.txt").read_text() == ""  # quietly: no traceback, no message


def test_pipe_mode_usage_and_input_errors(models_dir: Path, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, _, stderr = cli("-", "-o", tmp_path / "out")
    assert code == 2 and "pipe mode is `vocalsplit - -o -`" in stderr
    done = _run(models_dir, [], b"this is not a wav stream at all")
    assert done.returncode == 1 and b"not a WAV stream" in done.stderr and not done.stdout


def test_raw_pcm_in_and_out_at_a_low_latency_equals_file_mode(models_dir: Path, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    x = tone_mix(2.0, 44100)
    raw_in = np.ascontiguousarray(x.T).astype("<f4").tobytes()
    args = ["--raw-format", "44100:2:f32le", "--raw-output", "--bit-depth", "float", "--latency", "300"]
    done = _run(models_dir, args, raw_in)
    assert done.returncode == 0, done.stderr.decode()
    assert b"latency at most" in done.stderr and b"resampling" in done.stderr
    piped = np.frombuffer(done.stdout, "<f4").reshape(-1, 4)
    assert piped.shape[0] == x.shape[1]
    for i, filed in enumerate(_file_mode(cli, tmp_path, x, 44100, "FLOAT", "float32")):
        assert np.max(np.abs(piped[:, 2 * i : 2 * i + 2] - filed)) < 1e-4


def test_output_leaves_while_the_input_is_still_open(models_dir: Path) -> None:
    """A live source: half the input is sent and the pipe kept open; that half comes out, less the latency."""
    rate = 16000
    pcm = (tone_mix(4.0, rate, channels=1)[0] * 20000).astype("<i2")
    env = {**os.environ, "VOCALSPLIT_MODELS": str(models_dir)}
    command = [sys.executable, "-m", "vocalsplit", "-", "-o", "-", "--model", "tiny-rnn", "-q", "--raw-output"]
    command += ["--raw-format", f"{rate}:1:s16le", "--stems", "vocals", "--latency", "100"]
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(pcm[: 2 * rate].tobytes())
    proc.stdin.flush()
    early = proc.stdout.read(2 * (2 * rate - rate // 10))  # 2 s in, at most 100 ms held back
    proc.stdin.write(pcm[2 * rate :].tobytes())
    proc.stdin.close()
    rest = proc.stdout.read()
    assert proc.wait(timeout=60) == 0
    assert len(early + rest) == 2 * len(pcm)


def test_latency_options_are_checked_and_explained(models_dir: Path, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    one_second = (tone_mix(1.0, 16000, channels=1)[0] * 20000).astype("<i2").tobytes()
    done = _run(models_dir, ["--raw-format", "16000:1:s16le", "--latency", "20"], one_second)
    message = done.stderr.decode()
    assert done.returncode == 2 and not done.stdout
    assert "--latency 20 ms: model 'tiny-rnn' on 16000 Hz input needs at least 36 ms" in message
    assert "(STFT window 32 + shifts 4 ms; --shifts 1 lowers it)" in message
    done = _run(models_dir, ["--raw-format", "16000:2:s16"], one_second)
    assert done.returncode == 2 and b"give RATE:CHANNELS:TYPE" in done.stderr
    done = _run(models_dir, ["--raw-format", "16000:1:s16le", "-q"], one_second + b"\x01")
    assert done.returncode == 0 and b"ended inside a frame: its last 1 bytes dropped" in done.stderr
    song = write_audio(tmp_path / "song.wav", tone_mix(1.0, 16000), 16000)
    code, _, stderr = cli(song, "-o", tmp_path / "out", "--latency", "100", "--raw-output")
    assert code == 2 and "--latency, --raw-output: for pipe mode only" in stderr


def test_16_bit_stems_are_the_same_integers_from_a_pipe_and_from_a_file(models_dir: Path, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    x = tone_mix(1.5, 44100)
    done = _run(models_dir, ["-q"], _wav_bytes(x, 44100, "PCM_16"))
    assert done.returncode == 0, done.stderr.decode()
    piped, _ = sf.read(io.BytesIO(done.stdout), dtype="int16")
    for i, filed in enumerate(_file_mode(cli, tmp_path, x, 44100, "PCM_16", "int16")):
        assert np.array_equal(piped[:, 2 * i : 2 * i + 2], filed)
