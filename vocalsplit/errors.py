"""One exception hierarchy. Each class carries the CLI exit code it maps to."""

from __future__ import annotations


class VocalsplitError(Exception):
    """Base of every error the library raises on purpose."""

    exit_code: int = 1


class UsageError(VocalsplitError):
    """The request itself is wrong (bad option value, colliding outputs...)."""

    exit_code = 2


class InputAudioError(VocalsplitError):
    """An input file is missing, unreadable, empty, silent or holds bad samples."""

    exit_code = 1


class OutputError(VocalsplitError):
    """An output cannot be written (exists, unwritable folder, format limits)."""

    exit_code = 1


class ModelError(VocalsplitError):
    """A model file or manifest is broken, mismatched or behaves badly."""

    exit_code = 3


class ModelNotFoundError(ModelError):
    """The requested model name is not installed (a usage problem)."""

    exit_code = 2


class NoModelInstalledError(ModelError):
    """No model is installed at all, so nothing can be separated."""

    exit_code = 3


class DeviceError(VocalsplitError):
    """The requested compute device cannot be used (e.g. CUDA not loadable)."""

    exit_code = 3


class DatasetError(VocalsplitError):
    """A training/evaluation dataset is missing or laid out wrongly."""

    exit_code = 2


class TrainingError(VocalsplitError):
    """Training cannot go on (e.g. the loss became NaN)."""

    exit_code = 1
