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


def test_piped_stems_equal_file_mode_and_sum_to_the_input(models_dir: Path, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    x = tone_mix(2.0, 22050)
    done = _run(models_dir, ["--bit-depth", "float", "-q"], _wav_bytes(x, 22050, "FLOAT", unknown_size=True))
    assert done.returncode == 0, done.stderr.decode()
    piped, rate = sf.read(io.BytesIO(done.stdout), dtype="float32")
    assert rate == 22050 and piped.shape == (x.shape[1], 4)  # vocals' 2 channels, then the accompaniment's
    song = write_audio(tmp_path / "song.wav", x, 22050, "FLOAT")
    code, _, stderr = cli(song, "-o", tmp_path / "out", "--bit-depth", "float", "-q")
    assert code == 0, stderr
    for i, stem in enumerate(("vocals", "accompaniment")):
        filed, _ = sf.read(str(tmp_path / "out" / "song" / f"{stem}.wav"), dtype="float32")
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
