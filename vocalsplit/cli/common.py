"""What every command shares: consoles, exit codes, error lines and option types."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from vocalsplit.choices import ChannelMasks, HighBand, Mask
from vocalsplit.defaults import MAX_SHIFTS
from vocalsplit.errors import VocalsplitError

OK, INPUT_FAILED, USAGE, ENVIRONMENT = 0, 1, 2, 3
INTERRUPTED = 130

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def flag(*names: str, help: str) -> Any:  # noqa: A002 - typer's own keyword
    """A boolean flag: present or absent, never ``--flag true`` (no value shown in the help)."""
    return typer.Option(*names, help=help, metavar="", show_default=False)


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where the program is so that every open output is cleaned up as on Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextlib.contextmanager
def interrupts_clean_up() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into :class:`Interrupted` (``timeout``, ``docker stop``, a closed terminal),
    and any interruption into one line and the shell's exit code (128 + signal number)."""

    def raise_interrupted(signum: int, frame: object) -> None:
        raise Interrupted(signum)

    caught = [s for s in (signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None]
    previous = {s: signal.signal(s, raise_interrupted) for s in caught}
    try:
        yield
    except KeyboardInterrupt as stop:
        signum = stop.signum if isinstance(stop, Interrupted) else signal.SIGINT
        err.print(f"interrupted ({signal.Signals(signum).name}): unfinished outputs removed", highlight=False)
        raise typer.Exit(128 + signum) from None
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def fail(error: BaseException, verbose: bool = False) -> typer.Exit:
    """Print one readable line for ``error`` and return the Exit to raise."""
    if verbose:
        err.print_exception()
    code = error.exit_code if isinstance(error, VocalsplitError) else INPUT_FAILED
    say_error(str(error))
    return typer.Exit(code)


def say_error(message: str, label: str = "error") -> None:
    """One line on stderr; the message is printed as is (a file name like ``take[2].wav`` is no markup)."""
    err.print(f"[bold red]{label}:[/] {escape(message)}", markup=True, highlight=False, soft_wrap=True)


ModelOpt = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        help="Installed model or blend name, or path to a .onnx/.json; default: the default installed model.",
    ),
]
ModelsDirOpt = Annotated[
    Path | None,
    typer.Option("--models-dir", help="Extra folder of models searched first (also: VOCALSPLIT_MODELS)."),
]
DeviceOpt = Annotated[
    str, typer.Option("--device", help="auto, cpu, cuda or cuda:N. cuda fails (exit 3) if CUDA cannot be used.")
]
MaskOpt = Annotated[Mask, typer.Option("--mask", help="soft (stems sum to the mix) or binary (each bin to one stem).")]
ShiftsOpt = Annotated[
    int | None,
    typer.Option(
        "--shifts",
        help=f"Average N passes (1-{MAX_SHIFTS}) on frame grids offset by 1/N of a hop: "
        "better separation, N times the time. Default: the model's own (vocalsplit models, PASSES).",
        show_default=False,
    ),
]
HighBandOpt = Annotated[
    HighBand,
    typer.Option(
        "--high-band",
        help="Above the model's band (8 kHz for 16 kHz models): share gives each stem the song times its "
        "share of the top of the band, frame by frame; accompaniment gives it all to the accompaniment.",
        case_sensitive=False,
    ),
]
ChannelMasksOpt = Annotated[
    ChannelMasks,
    typer.Option(
        "--channel-masks",
        help="shared: every channel of a stereo song gets the same masks (the channels' outputs averaged); "
        "separate: each channel is separated as a mono song.",
        case_sensitive=False,
    ),
]
ChunkOpt = Annotated[
    float | None,
    typer.Option(
        "--chunk-seconds",
        help="Seconds of audio per network call (memory vs. speed). [default: 5 on the CPU, 20 on CUDA]",
        show_default=False,
    ),
]
VerboseOpt = Annotated[bool, flag("--verbose", "-v", help="Tracebacks on errors.")]
