"""The options of ``vocalsplit train``: defaults read from the training configs, never restated."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from vocalsplit.choices import Architecture, Dataset, Mir1kClips, Select, Split, Weights
from vocalsplit.cli.common import flag
from vocalsplit.training.config import LossSettings, Mixing, TrainConfig
from vocalsplit.training.net_configs import BmcnnConfig, CnnConfig, DrnnConfig, LstmConfig

T = TrainConfig
LS = LossSettings
DEFAULT_SOURCES = ",".join(T.sources)
DEFAULT_ARCH = Architecture(T.arch)


def _opt(name: str, help: str, **kw: Any) -> Any:  # noqa: A002 - typer's own keyword
    return typer.Option(name, help=help, **kw)


def _per_arch(name: str, help: str) -> Any:  # noqa: A002
    """An option whose default depends on the architecture (the help says which)."""
    return typer.Option(name, help=help, show_default=False)


DatasetOpt = Annotated[list[Dataset], _opt("--dataset", "Repeat to combine (pair each with --data-dir).")]
LicenceOpt = Annotated[
    list[str] | None,
    _opt("--data-licence", "Licence per --dataset, recorded in the manifest (default: MIR-1K's terms, or LICENSE)."),
]
RepeatOpt = Annotated[
    list[int] | None,
    _opt("--data-repeat", "Times each --dataset's training clips enter the pool, one per --dataset (default 1)."),
]
DataDirOpt = Annotated[list[Path] | None, _opt("--data-dir", "Data folder per --dataset (default: $VOCALSPLIT_DATA).")]
OutOpt = Annotated[Path, _opt("--out", "Model path without extension, e.g. models/my-drnn.")]
RunDirOpt = Annotated[Path | None, _per_arch("--run-dir", "Checkpoints and logs. [default: runs/<name>]")]
ClipsOpt = Annotated[Mir1kClips, _opt("--mir1k-clips", "train (the protocol's 175 clips) or all (1000).")]
SourcesOpt = Annotated[
    str, _opt("--sources", "Comma-separated sources, vocals first (cnn: e.g. vocals,drums,bass,other).")
]
ArchOpt = Annotated[
    Architecture,
    _opt("--arch", "drnn (Huang et al.), cnn (Chandna et al.), bmcnn (binary-mask CNN) or lstm (full-band soft mask)."),
]
ContextOpt = Annotated[
    int | None,
    _per_arch(
        "--context", f"drnn/bmcnn: context frames. [default: drnn {DrnnConfig.context}, bmcnn {BmcnnConfig.context}]"
    ),
]
D, C, L = DrnnConfig, CnnConfig, LstmConfig
LayersOpt = Annotated[
    int | None, _per_arch("--layers", f"drnn (1-3) / lstm (1-4) layers. [default: drnn {D.layers}, lstm {L.layers}]")
]
HiddenOpt = Annotated[
    int | None, _per_arch("--hidden", f"drnn / lstm units per layer. [default: drnn {D.hidden}, lstm {L.hidden}]")
]
WindowOpt = Annotated[
    int | None, _per_arch("--window", f"cnn / lstm frames per window. [default: cnn {C.window}, lstm {L.window}]")
]
BottleneckOpt = Annotated[
    int | None,
    _per_arch("--bottleneck", f"cnn / lstm bottleneck units. [default: cnn {C.bottleneck}, lstm {L.bottleneck}]"),
]
DropoutOpt = Annotated[
    float | None,
    _per_arch(
        "--dropout",
        f"Dropout while training. [default: drnn {D.dropout}, bmcnn {BmcnnConfig.dropout}, lstm {L.dropout}]",
    ),
]
LrFinalOpt = Annotated[
    float | None, _opt("--lr-final", "Cosine-decay the learning rate to this over the run's budget.")
]
MinutesOpt = Annotated[float | None, _opt("--minutes", "Stop after this many minutes of training.")]
SelectOpt = Annotated[
    Select, _opt("--select", "Export the checkpoint with the lowest validation loss or the highest mean SDR.")
]
SplitOpt = Annotated[Split, _opt("--split", "Validation clips: by name (the same in any pool and seed) or seeded.")]
ValTracksOpt = Annotated[
    list[str] | None,
    _opt("--validation-track", "stems: validate on this track folder (repeat for more) instead of --split's choice."),
]
M = Mixing
MixOpt = Annotated[bool, flag("--mix", help="Mix waveforms on the fly: any voice over any accompaniment.")]
MixRatioOpt = Annotated[str, _opt("--mix-ratio-db", "--mix: vocals-to-accompaniment ratio range, LOW,HIGH dB.")]
MixPairsOpt = Annotated[float, _opt("--mix-pairs", "--mix: share of examples that are a real song's own excerpt.")]
MixSilenceOpt = Annotated[float, _opt("--mix-silence", "--mix: share of examples without voice.")]
DEFAULT_RATIO = f"{M.ratio_db[0]:g},{M.ratio_db[1]:g}"
InitOpt = Annotated[
    Path | None, _opt("--init-from", "Start from a checkpoint's weights, or a DRNN's exported .onnx (fine-tune).")
]
EmaOpt = Annotated[float | None, _opt("--ema", "Validate and export a moving average of the weights (e.g. 0.999).")]
RepitchOpt = Annotated[
    str, _opt("--repitch", "Semitone shifts, e.g. -2,-1,1,2: each adds every clip with its voice so shifted.")
]
WeightsOpt = Annotated[
    Weights, _opt("--weights", "ONNX weight storage; float16 halves the file (network rounded first).")
]
StereoOpt = Annotated[
    bool, flag("--stereo", help="A stereo model: sees both channels at once, a mask per channel (no --mix).")
]
DeviceOpt = Annotated[str, _opt("--device", "auto, cpu, cuda or cuda:N; CUDA trains with bf16 autocast.")]
