"""The version of fh-analytik, in one place (``pyproject.toml`` reads it from here).

A constant, so that ``analysis.__version__`` does not load ``importlib.metadata`` (about
0,05 s at the start of every command).
"""

__version__ = "0.1.0"
