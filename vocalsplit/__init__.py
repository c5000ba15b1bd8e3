"""vocalsplit: split a song into singing voice and accompaniment.

The public Python API lives in :mod:`vocalsplit.api` (``Separator``,
``separate_array``, ``separate_file``); importing this package stays cheap.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
