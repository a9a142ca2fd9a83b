"""The page: its intro, the models' status, one tab per module of `ui.tabs`, the queue and serving options."""
from __future__ import annotations

from types import ModuleType

import gradio as gr
from starlette.middleware import Middleware

from ..serving import Engine
from . import notices, tabs
from .fairness import FairQueue
from .web_limits import WebLimits

TITLE = "RNN Playground"
QUEUE_SIZE = 32
CONCURRENCY = 2  # two CPU cores
MAX_UPLOAD_BYTES = 0  # the page has no file inputs, so every upload is refused (413)
# Sessions whose inputs and outputs Gradio keeps (one a visitor, one a REST call). No event of the
# page reads them back (no gr.State: the chat history comes from the client each time), so it
# keeps only those of the requests that run now, which re-read theirs at every streamed chunk,
# and as many again; the oldest beyond are forgotten. Gradio's default, 10,000, held 1.5 GB.
SESSION_CAPACITY = 4 * CONCURRENCY
INTRO = """# RNN Playground
Recurrent neural networks writing text, on a CPU: a GRU or LSTM language model continues a
Shakespeare scene, a GRU encoder-decoder with attention chats, and its sibling fills in the
blank of a sentence. Every random choice takes a seed: the same seed and settings give the same text."""
CSS = """
.attention { overflow-x: auto; }
.attention table { border-collapse: collapse; font-size: 12px; }
.attention td { width: 18px; height: 18px; border: 1px solid #eee; }
.attention th { font-weight: normal; padding: 0 4px; white-space: pre; }
.attention tr:first-child th { writing-mode: vertical-rl; transform: rotate(180deg); }
"""


def build_demo(engine: Engine, *, queue_size: int = QUEUE_SIZE) -> gr.Blocks:
    """The whole page, behind a queue.

    Args:
        engine: the engine every tab serves from.
        queue_size: the most requests that may wait in the queue.

    Returns:
        The page, ready to launch with `launch_options()`.
    """
    with gr.Blocks(title=TITLE) as demo:
        gr.Markdown(INTRO)
        with gr.Accordion("Models", open=False):
            status = gr.Markdown(notices.status_markdown(engine), elem_id="status")
        with gr.Tabs():
            boxes = {tab.TAB_ID: _tab(engine, tab) for tab in tabs.modules()}
        boxes = {tab: box for tab, box in boxes.items() if box is not None}
        # Each page load says again what is wrong with which model (the warm-up may have found out since).
        demo.load(lambda: notices.refreshed(engine, status, boxes), None, [status, *boxes.values()],
                  api_name=False)
    return configure_queue(demo, queue_size=queue_size)


def _tab(engine: Engine, tab: ModuleType) -> gr.Markdown | None:
    """Opens the tab of module `tab`, puts its models' notice on top and builds its content; returns the notice."""
    with gr.Tab(tab.LABEL, id=tab.TAB_ID):
        box = notices.box(engine, tab.TAB_ID)
        tab.build(engine)
    return box


def configure_queue(demo: gr.Blocks, *, queue_size: int = QUEUE_SIZE) -> gr.Blocks:
    """A bounded queue in front of every event, REST callers included; CONCURRENCY jobs at a time, visitors in turn."""
    demo.queue(max_size=queue_size, api_open=False, default_concurrency_limit=CONCURRENCY)
    # Gradio has no option for the order of its queue (first in, first out), so its queue is replaced,
    # before launch starts it, by a subclass that serves visitors in turn.
    demo._queue = FairQueue.replacing(demo._queue)
    return demo


def launch_options() -> dict:
    """Safe serving defaults shared by app.py and the tests: request bodies and routes bounded by
    `web_limits.WebLimits`, few sessions kept, no uploads, no monitoring."""
    return dict(max_file_size=MAX_UPLOAD_BYTES, enable_monitoring=False, show_error=False,
                footer_links=["api"], theme=gr.themes.Soft(), css=CSS, state_session_capacity=SESSION_CAPACITY,
                app_kwargs={"middleware": [Middleware(WebLimits)]})
