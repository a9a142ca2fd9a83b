"""The page's tabs: each module of this package is one tab, found by `modules()` and ordered by its POSITION.

A new tab is one new module here, defining:
    TAB_ID: the tab's id: its `ModelSpec.tab` in the registry (if it serves models) and the prefix
        of its notice's elem_id.
    LABEL: the key of the name on the tab in `ui/text.py` STRINGS (the page is in two languages).
    POSITION: where the tab stands, smaller to the left; no two tabs share one.
    build(engine): builds the tab's content inside the `gr.Tab` the page has opened for it.
Modules whose name starts with "_" are not tabs (helpers shared by tabs).
"""
from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def modules() -> list[ModuleType]:
    """The tab modules, in their order on the page (ValueError if two share a POSITION or a TAB_ID)."""
    found = [importlib.import_module(f"{__name__}.{info.name}")
             for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")]
    for attribute in ("POSITION", "TAB_ID"):
        values = [getattr(tab, attribute) for tab in found]
        if len(set(values)) < len(values):
            raise ValueError(f"two tabs share a {attribute}: {sorted(map(str, values))}")
    return sorted(found, key=lambda tab: tab.POSITION)
