"""hyperdeme's version: the one place it is written (pyproject.toml reads it from here,
``[tool.setuptools.dynamic]``; CHANGELOG.md names each release)."""

__version__ = "0.3.0"
