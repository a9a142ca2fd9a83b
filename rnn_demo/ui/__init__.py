"""The Gradio page: one module per tab, assembled by `page`."""
from .page import build_demo, launch_options

__all__ = ["build_demo", "launch_options"]
