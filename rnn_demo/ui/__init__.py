"""The Gradio page: `page` assembles it from the shared parts here and one module per tab in `tabs/`."""
from .page import build_demo, keep_mcp_tools, launch_options
from .sessions import use_lean_sessions

__all__ = ["build_demo", "keep_mcp_tools", "launch_options", "use_lean_sessions"]
