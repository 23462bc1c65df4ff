"""Experiments under a run path, as ``hyperdeme list``, ``status`` and ``serve`` see them.

:mod:`._scan` finds them, :mod:`._follow` reads each one's journal as it grows (new
bytes only, in slices, through the engine's one reader) into :mod:`._rows` (a compact
row per trial), :mod:`._registry` holds them for a server (reading in the background,
one lock per experiment), :mod:`._views` turns what was read into
the JSON the dashboard serves, :mod:`._app` is the dashboard (Starlette) and
:mod:`._serve` starts it (uvicorn). Only the last two import the ``serve`` extra.
"""
