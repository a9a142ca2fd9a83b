"""The page: its intro, the models' status, one tab per module of `ui.tabs`, the queue and serving options."""
from __future__ import annotations

import contextlib
from types import ModuleType

import gradio as gr
from gradio.routes import App
from starlette.middleware import Middleware

from ..serving import Engine
from . import language, notices, tabs
from .fairness import FairQueue
from .sessions import use_lean_sessions
from .text import I18N, t
from .tabs import train as train_tab
from .web_limits import MCP, UPLOAD, CallPacing, WebLimits

TITLE = "RNN Playground"
QUEUE_SIZE = 32
CONCURRENCY = 2  # two CPU cores: chat replies, fills and the lab, each computed on its own
# Generation streams run in a group of their own: the streams of one model share one batched step
# on one decoder thread (`serving.batching`), so more of them at once cost little more CPU than one.
STREAM_GROUP = "streams"
STREAMS = 16
# The one file input is the Train tab's (a text or a model file); Gradio's own check, beside the route's.
MAX_UPLOAD_BYTES = train_tab.UPLOAD_LIMIT.max_bytes
# Sessions whose inputs and outputs Gradio keeps (one a visitor, one a REST call). No event of the
# page reads them back (no gr.State: the chat history comes from the client each time), so it
# keeps only those of the requests that run now, which re-read theirs at every streamed chunk,
# and as many again; the oldest beyond are forgotten. Gradio's default, 10,000, held 1.5 GB.
SESSION_CAPACITY = 2 * (CONCURRENCY + STREAMS)
# Every 5 minutes, Gradio deletes the files of its cache older than 15: uploads that no handler read (a script
# may post files to the open upload route and never use them; the Train tab deletes those it reads at once)
# and the copies of downloaded models.
CACHE_CLEANUP = (300, 900)
CALL_PACING = CallPacing()  # each address's event calls: 40 at once, 20 a second after (web_limits.CallPacing)
MCP_TOOLS = ("generate", "chat", "fill")  # the events served as MCP tools with `python app.py --mcp`
# Dark or light at once, in the browser; the address keeps the choice (Gradio reads ?__theme= on load).
THEME_JS = """() => {
  const dark = !document.body.classList.contains("dark");
  document.body.classList.toggle("dark", dark);
  const url = new URL(location.href);
  url.searchParams.set("__theme", dark ? "dark" : "light");
  history.replaceState(null, "", url.toString());
}"""
# The page's own styles. Colours that must differ in dark mode come from Gradio's theme variables
# (which follow the `dark` class on <body>) or from a `.dark` rule of their own.
CSS = """
#page-switches { justify-content: flex-end; gap: 8px; }
#page-switches button { flex: 0 0 auto; min-width: 0; }
/* All tabs on screen at any width: the tab bar wraps onto more lines instead of hiding tabs behind a
   "•••" menu (Gradio measures the hidden copies of the tab buttons to decide what overflows). */
#main-tabs > .tab-wrapper, #learn-tabs > .tab-wrapper { height: auto; }
#main-tabs > .tab-wrapper > .tab-container, #learn-tabs > .tab-wrapper > .tab-container {
  flex-wrap: wrap; height: auto; row-gap: 2px; }
#main-tabs > .tab-wrapper > .tab-container.visually-hidden button,
#learn-tabs > .tab-wrapper > .tab-container.visually-hidden button { max-width: 1px; padding: 0; }
.attention { overflow-x: auto; }
#learn-near table { border-collapse: collapse; }
#learn-near th, #learn-near td { border-bottom: 1px solid var(--border-color-primary); padding: 2px 12px; text-align: left; }
#learn-near td.piece { white-space: pre; font-family: var(--font-mono); }
.attention table { border-collapse: collapse; font-size: 12px; }
.attention td { width: 18px; height: 18px; border: 1px solid var(--border-color-primary); }
.attention th { font-weight: normal; padding: 0 4px; white-space: pre; }
.attention tr:first-child th { writing-mode: vertical-rl; transform: rotate(180deg); }
.attention td { background: rgba(234, 88, 12, var(--weight)); }
.dark .attention td { background: rgba(253, 186, 116, var(--weight)); }
/* The filler sits in its sentence like any word: no margins of its own (Gradio's put a space before "."). */
#completed .token.highlighted { margin: 0; padding: 0 2px; }
/* The chat's own toolbar (copy, clear) floats over its top right corner: room for it above the first message. */
#chat .bubble-wrap, #chat [role="log"] { padding-top: 36px; }
"""


def build_demo(engine: Engine, *, queue_size: int = QUEUE_SIZE, streams: int = STREAMS) -> gr.Blocks:
    """The whole page, behind a queue.

    Args:
        engine: the engine every tab serves from.
        queue_size: the most requests that may wait in the queue.
        streams: the most generation streams that run at once.

    Returns:
        The page, ready to launch with `launch_options()`.
    """
    with _no_app_until_launch():
        return configure_queue(_page(engine), queue_size=queue_size, streams=streams)


def _page(engine: Engine) -> gr.Blocks:
    """The page's blocks and events, not yet queued."""
    with gr.Blocks(title=TITLE, delete_cache=CACHE_CLEANUP) as demo:
        _switches()
        gr.Markdown(t("page.intro"))
        with gr.Accordion(t("page.models"), open=False):
            status = gr.Markdown(elem_id="status")  # written at each page load, in the visitor's language
        with gr.Tabs(elem_id="main-tabs"):
            boxes = {tab.TAB_ID: _tab(engine, tab) for tab in tabs.modules()}
        boxes = {tab: box for tab, box in boxes.items() if box is not None}
        # Each page load says again what is wrong with which model (the warm-up may have found out since).
        def refresh(request: gr.Request):
            return notices.refreshed(engine, status, boxes, language.of(request))

        demo.load(refresh, None, [status, *boxes.values()], api_name=False)
    return demo


@contextlib.contextmanager
def _no_app_until_launch():
    """Gradio 6 makes a FastAPI app of the page (80 routes, each analysed by FastAPI) when a Blocks is made, when
    it is closed and when it is queued, and throws each away: `launch` makes the one that serves. Within this
    block it makes none (the Blocks' `app` stays None until `launch`), which takes 0.3 s off building the page here
    (0.505 -> 0.212 s, medians of 4). Process-wide while it lasts, like any class attribute: pages are built one at a time."""
    made = App.__dict__["create_app"]
    App.create_app = staticmethod(_no_app)
    try:
        yield
    finally:
        App.create_app = made


def _no_app(blocks, *args, **kwargs) -> None:
    """Stands in for `App.create_app` while a page is built: no app."""
    return None


def _switches() -> None:
    """The page's two switches, top right: the other language (reloads the page in it), dark or light."""
    with gr.Row(elem_id="page-switches"):
        language_button = gr.Button(t("page.switch_language"), size="sm", variant="secondary", scale=0,
                                    elem_id="switch-language")
        theme_button = gr.Button(t("page.switch_theme"), size="sm", variant="secondary", scale=0,
                                 elem_id="switch-theme")
    language_button.click(None, js=language.SWITCH_JS, api_name=False)
    theme_button.click(None, js=THEME_JS, api_name=False)


def _tab(engine: Engine, tab: ModuleType) -> gr.Markdown | None:
    """Opens the tab of module `tab`, puts its models' notice on top and builds its content; returns the notice."""
    with gr.Tab(t(tab.LABEL), id=tab.TAB_ID):
        box = notices.box(engine, tab.TAB_ID)
        tab.build(engine)
    return box


def configure_queue(demo: gr.Blocks, *, queue_size: int = QUEUE_SIZE, streams: int = STREAMS) -> gr.Blocks:
    """A bounded queue in front of every event, REST callers included, visitors in turn: CONCURRENCY jobs
    at a time, and besides them `streams` events of the STREAM_GROUP group."""
    demo.queue(max_size=queue_size, api_open=False, default_concurrency_limit=CONCURRENCY)
    # The queue makes each group's slots from its events' limits when the first call comes.
    for fn in demo.fns.values():
        if fn.concurrency_id == STREAM_GROUP:
            fn.concurrency_limit = streams
    # Gradio has no option for the order of its queue (first in, first out), so its queue is replaced,
    # before launch starts it, by a subclass that serves visitors in turn.
    demo._queue = FairQueue.replacing(demo._queue)
    return demo


def launch_options(*, mcp: bool = False, pacing: CallPacing | None = CALL_PACING) -> dict:
    """Safe serving defaults shared by app.py and the tests: request bodies and routes bounded by
    `web_limits.WebLimits` (one upload route, the Train tab's, open; each address's event calls paced),
    few sessions kept, no monitoring.

    Args:
        mcp: also serve `MCP_TOOLS` over MCP at /gradio_api/mcp/ (call `after_launch` once launched).
        pacing: how fast one address may start event calls; None: no pace (the tests, all from one address).
    """
    limits = Middleware(WebLimits, uploads={UPLOAD: train_tab.UPLOAD_LIMIT}, open_prefixes=(MCP,) if mcp else (),
                        pacing=pacing)
    return dict(max_file_size=MAX_UPLOAD_BYTES, enable_monitoring=False, show_error=False,
                footer_links=["api"], theme=gr.themes.Soft(), css=CSS, state_session_capacity=SESSION_CAPACITY,
                app_kwargs={"middleware": [limits, Middleware(language.PageLanguage)]}, i18n=I18N, mcp_server=mcp)


def after_launch(demo: gr.Blocks) -> list[str]:
    """What the launched app needs before its first visitor: lean sessions (`sessions.py`), and its MCP tools
    cut to `MCP_TOOLS`. Call it right after `demo.launch(**launch_options(...))`.

    Returns:
        The MCP tools' names, or [] when the app serves no MCP.
    """
    use_lean_sessions(demo)
    return keep_mcp_tools(demo)


def keep_mcp_tools(demo: gr.Blocks) -> list[str]:
    """Leaves the three models' events (`MCP_TOOLS`) as the launched app's MCP tools: Gradio offers every
    event of the API, and the Lab's and Train tab's are for people (a training run per agent call is not).

    Returns:
        The tools' names, or [] when the app serves no MCP.
    """
    server = demo.mcp_server_obj
    if server is None:
        return []
    server.tool_to_endpoint = {tool: endpoint for tool, endpoint in server.tool_to_endpoint.items()
                               if endpoint.lstrip("/") in MCP_TOOLS}
    return list(server.tool_to_endpoint)
