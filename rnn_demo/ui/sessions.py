"""Gradio's per-session state, without the copy of every component's config that only deep links read.

For each new session Gradio builds the config of every component of the page (several hundred here)
and keeps it, so that `/gradio_api/deep_link` can save the session's page; `web_limits` closes that
route. Every REST call that brings no session is a new session: under the soak's flood of such calls
the copies took 45% of the app's CPU (py-spy) and most of each session's memory. `LeanSessionState`
keeps the rest of Gradio's session state: each component's value and each `gr.State`.
"""
from __future__ import annotations

from gradio.components import State
from gradio.state_holder import SessionState, StateHolder


class _NoComponentConfigs:
    """What `SessionState.__init__` reads of the app, its component list empty: no configs are built."""

    def __init__(self, blocks):
        self.default_config = blocks.default_config
        self.blocks = {}


class LeanSessionState(SessionState):
    """`SessionState` whose `config_values` (the deep link's copy of the page) stays empty."""

    def __init__(self, blocks):
        super().__init__(_NoComponentConfigs(blocks))

    def __setitem__(self, key: int, value) -> None:
        if isinstance(self.blocks_config.blocks.get(key), State):
            super().__setitem__(key, value)  # its time to live; one config, its own
        else:
            self.blocks_config.blocks[key] = value

    def _update_config(self, key: int) -> None:
        """Gradio refreshes the deep link's copy of a component here: there is none."""

    def _update_value_in_config(self, key: int, value) -> None:
        """Likewise for a component's value."""


class LeanStateHolder(StateHolder):
    """Gradio's sessions (the same capacity, order and expiry), each a `LeanSessionState`."""

    def __getitem__(self, session_id: str) -> SessionState:
        if session_id not in self.session_data:
            self.session_data[session_id] = LeanSessionState(self.blocks)
        return super().__getitem__(session_id)


def use_lean_sessions(demo) -> None:
    """Gives the launched `demo` a `LeanStateHolder` (call it right after `launch`, before any visitor).

    Raises:
        RuntimeError: the app already holds sessions (they would be lost).
    """
    app = demo.server_app
    if app.state_holder.session_data:
        raise RuntimeError("the app already has sessions: switch before its first visitor")
    holder = LeanStateHolder()
    holder.set_blocks(demo)
    app.state_holder = holder
