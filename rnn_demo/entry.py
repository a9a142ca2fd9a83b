"""What `python app.py` settles before Gradio is imported: its command line, the imports it refuses, and
the type stubs Gradio would otherwise rewrite while it imports.

Gradio's MCP server class imports the MCP SDK in its class body, so `import gradio` loads it (13 MB
resident, 0.1-0.4 s here) even when no MCP server is started; Gradio takes an ImportError there as
"not installed" and goes on. `python app.py` without `--mcp` refuses the import before Gradio is
imported: the served app is the same, lighter. Nothing is refused in any other process.

Gradio 6's component metaclass also refreshes a `.pyi` type stub beside every component's source each time
a component class is created, `import gradio` included: it reads and parses the source of ~40 components
and rewrites the stub when it differs. That is an aid for authors of custom components (their editors read
the stubs); it changes nothing in the served app, and it was about half of `import gradio` here (2.0-2.3 s
instead of 3.9-4.8 s idle, 2.6-3.1 s instead of 5.0-7.0 s busy, measured A/B on 2 cores). A served app
should not write into its own installation either (a read-only image, a non-root container user).
`python app.py` skips it.

Gradio's `caching` module imports pandas at the top (0.17-0.24 s and about 30 MB here) for a cache this app
never uses; the rest of Gradio imports pandas inside the functions that need it (tables, plots, its
monitoring dashboard, which `launch_options` turns off). `python app.py` defers it: `import pandas` gives a
module that loads on its first attribute read (`importlib.util.LazyLoader`), so a process that never reads
one never loads pandas, and one that does gets the real module, later.
"""
from __future__ import annotations

import argparse
import importlib.machinery
import importlib.util
import logging
import sys
from collections.abc import Mapping

log = logging.getLogger(__name__)

MCP_PACKAGE = "mcp"
MCP_VARIABLE = "GRADIO_MCP_SERVER"  # Gradio's own switch for its MCP server, read here too


def command_line() -> argparse.ArgumentParser:
    """`python app.py`'s arguments."""
    parser = argparse.ArgumentParser(description="Serve the RNN Playground.")
    parser.add_argument("--mcp", action="store_true",
                        help=f"also serve the three models as MCP tools (or set {MCP_VARIABLE}=true)")
    return parser


def serves_mcp(argv: list[str], environ: Mapping[str, str]) -> bool:
    """Whether `python app.py` with these arguments and environment serves the MCP tools."""
    known, _ = command_line().parse_known_args(argv)
    return known.mcp or environ.get(MCP_VARIABLE, "").lower() == "true"


class RefusedImports:
    """A meta path finder that answers ModuleNotFoundError for some top-level packages and their modules."""

    def __init__(self, *packages: str):
        self.packages = frozenset(packages)

    def find_spec(self, name: str, path=None, target=None):
        if name.partition(".")[0] in self.packages:
            raise ModuleNotFoundError(f"{name} is not imported by this process (rnn_demo.entry)", name=name)
        return None


def refuse(*packages: str) -> RefusedImports:
    """Refuses every later import of `packages` in this process (those already imported stay)."""
    finder = RefusedImports(*packages)
    sys.meta_path.insert(0, finder)
    return finder


STUB_MODULE = "gradio.component_meta"  # where Gradio's metaclass calls STUB_WRITER as each component class is made
STUB_WRITER = "create_or_modify_pyi"


def _no_stub(*args, **kwargs) -> None:
    """Stands in for Gradio's stub writer: writes nothing."""


class StubWritingSkipped:
    """A meta path finder that loads Gradio's component metaclass module as usual, then replaces its stub writer
    with one that writes nothing. It acts once, on that module's first import, and then leaves `sys.meta_path`."""

    def find_spec(self, name: str, path=None, target=None):
        if name != STUB_MODULE:
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is None or spec.loader is None:
            return None
        execute = spec.loader.exec_module

        def exec_module(module):
            execute(module)
            if hasattr(module, STUB_WRITER):
                setattr(module, STUB_WRITER, _no_stub)
            else:  # another Gradio: its stubs (if any) are written as it decides
                log.warning("%s has no %s: Gradio's stub writing left as it is", STUB_MODULE, STUB_WRITER)

        spec.loader.exec_module = exec_module
        return spec


def skip_stub_writing() -> bool:
    """Makes Gradio, when this process imports it, skip refreshing its components' type stubs (see the module's
    text). Returns False, doing nothing, when Gradio's metaclass module is already imported."""
    if STUB_MODULE in sys.modules:
        return False
    if not any(isinstance(finder, StubWritingSkipped) for finder in sys.meta_path):
        sys.meta_path.insert(0, StubWritingSkipped())
    return True


class DeferredImports:
    """A meta path finder that gives some top-level packages a module that loads on its first attribute read."""

    def __init__(self, *packages: str):
        self.packages = frozenset(packages)

    def find_spec(self, name: str, path=None, target=None):
        if name not in self.packages:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = importlib.util.LazyLoader(spec.loader)
        return spec


DEFERRED_PACKAGES = ("pandas",)  # imported by Gradio at import time, read by nothing this app serves


def defer(*packages: str) -> DeferredImports | None:
    """Makes later imports of `packages` load each on its first attribute read, not at the import. Returns None,
    doing nothing, when one of them is already imported (it stays as it is)."""
    if any(package in sys.modules for package in packages):
        return None
    finder = DeferredImports(*packages)
    sys.meta_path.insert(0, finder)
    return finder
