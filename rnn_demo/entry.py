"""What `python app.py` settles before Gradio is imported: its command line, and the imports it refuses.

Gradio's MCP server class imports the MCP SDK in its class body, so `import gradio` loads it (13 MB
resident, 0.1-0.4 s here) even when no MCP server is started; Gradio takes an ImportError there as
"not installed" and goes on. `python app.py` without `--mcp` refuses the import before Gradio is
imported: the served app is the same, lighter. Nothing is refused in any other process.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping

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
