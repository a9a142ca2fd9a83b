"""The Gradio page: `page` assembles it from the shared parts here and one module per tab in `tabs/`."""
from .page import after_launch, build_demo, launch_options

__all__ = ["after_launch", "build_demo", "launch_options"]
