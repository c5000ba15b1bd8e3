"""What a training run is given: data, architecture, loss, augmentation, schedule, device, export.

The defaults here (and in ``net_configs``) are the only ones: ``vocalsplit train`` shows
them in ``--help``. Torch-free, so that the help needs no torch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vocalsplit.choices import Dataset, Loss, Mir1kClips, Select, Split, Weights, parse
from vocalsplit.errors import UsageError
from vocalsplit.training.net_configs import TWO_SOURCES

MAX_SEMITONES = 12.0
"""Largest ``--repitch`` shift."""


def check_semitones(shifts: tuple[float, ...]) -> None:
    for s in shifts:
        if not (s != 0 and abs(s) <= MAX_SEMITONES):
            raise UsageError(f"--repitch {s:g}: shifts must be non-zero and within ±{MAX_SEMITONES:g} semitones")


@dataclass(frozen=True)
class LossSettings:
    kind: Loss = Loss.MSE
    gamma: float = 0.05
    """DRNN discriminative weight γ (the paper's best)."""
    alpha: float = 0.001
    beta: float = 0.01
    beta_vocals: float = 0.03
    """CNN discriminative weights (Chandna et al.)."""


@dataclass(frozen=True)
class Augment:
    remix: float = 0.5
    """Probability that an example pairs the voice with music from elsewhere."""
    shift_frames: int = 64
    """Largest circular shift of the voice against its own music, in frames."""
    gain_db: float = 3.0
    """Each source gets a uniform random gain in ±gain_db."""
    repitch: tuple[float, ...] = ()
    """Semitone shifts: each adds a copy of every training clip with its voice repitched
    (see :mod:`vocalsplit.training.repitch`)."""


MIR1K_LICENCE = "MIR-1K (Hsu & Jang 2010): distributed for research, no licence file"


@dataclass(frozen=True)
class Mixing:
    """On-the-fly mixing of waveforms (``--mix``): any voice over any accompaniment (see ``mixer.py``)."""

    ratio_db: tuple[float, float] = (-17.0, 3.0)
    """Vocals-to-accompaniment ratio range of a remixed example (real songs sit in −17 … +3 dB)."""
    pairs: float = 0.25
    """Probability that an example is a real song's own aligned excerpt, at its own balance."""
    silence: float = 0.1
    """Probability that an example has no voice (the model must then return nothing)."""
    gain_db: float = 6.0
    """Each example's overall level moves by a uniform random gain in ±gain_db."""

    def __post_init__(self) -> None:
        low, high = self.ratio_db
        if not low <= high:
            raise UsageError(f"--mix-ratio-db {low:g},{high:g}: the first value must not exceed the second")
        for name, p in (("--mix-pairs", self.pairs), ("--mix-silence", self.silence)):
            if not 0.0 <= p <= 1.0:
                raise UsageError(f"{name} {p:g}: a probability between 0 and 1")


@dataclass(frozen=True)
class DataSpec:
    kind: Dataset
    path: Path | None
    mir1k_clips: Mir1kClips = Mir1kClips.TRAIN
    """``train``: the protocol's 175 training clips; ``all``: all 1000 clips."""
    licence: str | None = None
    """The data's licence, recorded in the manifest; None: MIR-1K's known terms, or a stems
    folder's LICENSE file, else "not stated"."""
    repeat: int = 1
    """Times the dataset's training clips enter the pool: weights a small dataset up against a
    large one (its validation clips are never repeated)."""


@dataclass
class TrainConfig:
    data: list[DataSpec]
    out: Path
    run_dir: Path
    arch: str = "drnn"
    """A registered architecture (see :mod:`vocalsplit.training.architecture`)."""
    arch_options: dict[str, Any] = field(default_factory=dict)
    """Fields of the architecture's config dataclass; ``None`` values keep its defaults."""
    sources: tuple[str, ...] = TWO_SOURCES
    loss: LossSettings = field(default_factory=LossSettings)
    lr: float = 1e-3
    lr_final: float | None = None
    """Cosine-decay the learning rate from ``lr`` to this over this run's budget (steps or
    minutes, whichever ends first); ``None`` keeps it constant."""
    batch: int = 32
    frames: int = 64
    steps: int = 20000
    minutes: float | None = None
    val_every: int = 200
    val_fraction: float = 0.1
    split: Split = Split.NAME
    """How validation clips are chosen: by name (stable across pools and seeds) or seeded."""
    validation_tracks: tuple[str, ...] = ()
    """Stems datasets: these track folders (by name) are the validation tracks, whatever ``split`` says."""
    seed: int = 0
    sample_rate: int = 16000
    n_fft: int = 1024
    hop: int = 512
    augment: Augment = field(default_factory=Augment)
    mixing: Mixing | None = None
    """Mix waveforms on the fly (needed for ``vocals``/``music`` datasets); None: remix STFTs of paired clips."""
    resume: bool = False
    init_from: Path | None = None
    """Start from this checkpoint's weights (fine-tuning), same architecture."""
    select: Select = Select.LOSS
    """What picks the exported checkpoint: the validation loss, or the mean validation SDR over the
    sources (needs the trainer's scorer)."""
    ema: float | None = None
    """Keep an exponential moving average of the weights with this decay (e.g. 0.999);
    validation, the best checkpoint and the export then use the averaged weights."""
    default: bool = False
    max_track_seconds: float | None = None
    weights: Weights = Weights.FLOAT32
    """How the exported ONNX file stores its weights: ``float32``, or ``float16`` (half the
    file; the network is rounded to float16 before the export and parity is checked so)."""
    device: str = "auto"
    """``auto`` (CUDA when torch sees a GPU), ``cpu``, ``cuda`` or ``cuda:N``; CUDA trains in bf16 autocast."""
    stereo: bool = False
    """Train a stereo model: each example is both channels of a clip, their bins side by side
    (``audio/channel_layout.py``); mono clips count as two equal channels."""

    def __post_init__(self) -> None:
        # the registry imports torch: only a run (not ``--help``) gets here
        from vocalsplit.training.architecture import architectures, get_spec

        spec = get_spec(self.arch)
        self.split = parse(Split, self.split, "--split")
        self.select = parse(Select, self.select, "--select")
        self.weights = parse(Weights, self.weights, "--weights")
        self.loss = LossSettings(**{**asdict(self.loss), "kind": parse(Loss, self.loss.kind, "--loss")})
        self.data = [
            DataSpec(
                parse(Dataset, d.kind, "--dataset"),
                d.path,
                parse(Mir1kClips, d.mir1k_clips, "--mir1k-clips"),
                d.licence,
                d.repeat,
            )
            for d in self.data
        ]
        if any(d.repeat < 1 for d in self.data):
            raise UsageError(f"--data-repeat {min(d.repeat for d in self.data)}: each must be at least 1")
        if not self.data:
            raise UsageError("give at least one --dataset")
        solo = [str(d.kind) for d in self.data if d.kind in (Dataset.VOCALS, Dataset.MUSIC)]
        if solo and self.mixing is None:
            raise UsageError(f"--dataset {solo[0]} holds one source only: add --mix to mix voices over music")
        if self.stereo and self.mixing is not None:
            raise UsageError("--stereo trains on the stems' own channels: it does not work with --mix yet")
        if self.mixing is not None and len(self.sources) != 2:
            raise UsageError("--mix separates two sources (vocals, accompaniment)")
        if self.lr <= 0:
            raise UsageError(f"--lr {self.lr}: must be positive")
        if self.lr_final is not None and not 0 < self.lr_final <= self.lr:
            raise UsageError(f"--lr-final {self.lr_final}: must be positive and at most --lr {self.lr}")
        check_semitones(self.augment.repitch)
        if self.ema is not None and not 0 < self.ema < 1:
            raise UsageError(f"--ema {self.ema}: the decay must be between 0 and 1 (e.g. 0.999)")
        if self.sources[0] != "vocals" or len(self.sources) < 2:
            raise UsageError(f"--sources {','.join(self.sources)}: must start with vocals and name at least two")
        if len(self.sources) > 2 and (not spec.multi_source or any(d.kind == Dataset.MIR1K for d in self.data)):
            multi = ", ".join(name for name, s in architectures().items() if s.multi_source)
            raise UsageError(f"more than two sources need a multi-source --arch ({multi}) and stems datasets")

    @property
    def channels(self) -> int:
        """Channels the network sees at once."""
        return 2 if self.stereo else 1

    def describe(self) -> dict[str, Any]:
        """The configuration as JSON-ready values (written to the run folder)."""
        d = asdict(self)
        d["data"] = [{**asdict(s), "path": str(s.path)} for s in self.data]
        return d
