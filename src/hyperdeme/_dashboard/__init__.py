"""Experiments under a run path, as ``hyperdeme list``, ``status`` and ``serve`` see them.

:mod:`._scan` finds them, :mod:`._follow` reads each one's journal as it grows (new
bytes only, through the engine's one reader), :mod:`._views` turns what was read into
the JSON the dashboard serves, :mod:`._app` is the dashboard (Starlette) and
:mod:`._serve` starts it (uvicorn). Only the last two import the ``serve`` extra.
"""
