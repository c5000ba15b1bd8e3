from pathlib import Path

from vocalsplit.audio.folders import files_below
from vocalsplit.separation.inputs import collect_inputs


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def test_files_below_follows_symlinked_folders_and_ends_on_link_cycles(tmp_path: Path) -> None:
    root = tmp_path / "music"
    a = _touch(root / "album" / "a.wav")
    _touch(tmp_path / "elsewhere" / "b.flac")
    (root / "linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (root / "album" / "loop").symlink_to(root, target_is_directory=True)
    assert files_below(root) == [a, root / "linked" / "b.flac"]


def test_folder_input_reaches_audio_in_symlinked_subfolders(tmp_path: Path) -> None:
    _touch(tmp_path / "elsewhere" / "song.mp3")
    music = tmp_path / "music"
    music.mkdir()
    (music / "live").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    found, problems = collect_inputs([str(music)])
    assert problems == []
    assert [(f.path.name, f.relative_dir) for f in found] == [("song.mp3", "live")]
