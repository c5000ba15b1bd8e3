"""The public Python API: a loaded model that separates arrays or files.

>>> import soundfile as sf
>>> from vocalsplit.api import Separator
>>> sep = Separator()                              # default installed model, best device, its own passes as the CLI
>>> audio, rate = sf.read("song.wav", always_2d=True)
>>> stems = sep.separate_array(audio.T, rate)      # {"vocals": (channels, n), "accompaniment": ...}
>>> result = sep.separate_file("song.wav", "out/")  # files in, files out

The CLI rides the same object: ``vocalsplit song.mp3`` and ``Separator().separate_file``
run one code path with one set of defaults (``vocalsplit.defaults``).
"""

from __future__ import annotations

from vocalsplit.choices import BitDepth, Existing, Mask, OutputFormat
from vocalsplit.separation.files import FileResult, OutputOptions
from vocalsplit.separation.separator import Separator

__all__ = ["BitDepth", "Existing", "FileResult", "Mask", "OutputFormat", "OutputOptions", "Separator"]
