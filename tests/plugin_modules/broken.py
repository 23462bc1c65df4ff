"""A plug-in that cannot be imported: listing it must not import it."""

from __future__ import annotations

raise ImportError("this plug-in needs a module that is not installed (on purpose)")
