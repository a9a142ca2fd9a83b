"""What the page says about its models: the status line, and the notice of each tab that has models."""
from __future__ import annotations

import gradio as gr

from ..models import registry
from ..serving import Engine
from .text import ENGLISH, say, translated

STATUS_WORDS = {"ready": "status.ready", "loading": "status.loading"}  # any other state is why the model cannot load


def status_markdown(engine: Engine, language: str = ENGLISH) -> str:
    """One line per model, in `language`: ready, loading, or what is wrong and how to fix it."""
    return "  \n".join(f"**{name}**: {_state(state, language)}" for name, state in engine.status().items())


def _state(state: str, language: str) -> str:
    """A model's state in words: one of STATUS_WORDS, or ⚠ and why it cannot load."""
    return say(STATUS_WORDS[state], language) if state in STATUS_WORDS else "⚠ " + translated(state, language)


def tab_notices(engine: Engine, language: str = ENGLISH) -> dict[str, str]:
    """For each tab with models, by tab id: what keeps them from working and how to fix it ("" when nothing
    does), in `language`."""
    status = engine.status()
    return {tab: "  \n".join(say("notice.cannot_use", language, name=name, why=translated(status[name], language))
                             for name in registry.names(tab=tab) if status[name] not in STATUS_WORDS)
            for tab in _tabs_with_models()}


def box(engine: Engine, tab: str) -> gr.Markdown | None:
    """The notice at the top of tab `tab`, hidden while all is well; None for a tab without models.

    Args:
        engine: the engine whose model status the notice tells.
        tab: the tab's id (a `ModelSpec.tab`).
    """
    if tab not in _tabs_with_models():
        return None
    # Empty until the page loads: `refreshed` then writes it in the visitor's language.
    return gr.Markdown(visible=bool(tab_notices(engine)[tab]), elem_id=f"{tab}-notice", elem_classes="model-notice")


def refreshed(engine: Engine, status: gr.Markdown, boxes: dict[str, gr.Markdown], language: str = ENGLISH) -> dict:
    """The status line and every notice box as they are now, each update keyed by its component.

    Args:
        engine: the engine whose model status they tell.
        status: the status line's component.
        boxes: tab id → that tab's notice box.
        language: the visitor's (`language.of`).
    """
    texts = tab_notices(engine, language)
    return {status: status_markdown(engine, language),
            **{component: gr.Markdown(texts[tab], visible=bool(texts[tab])) for tab, component in boxes.items()}}


def _tabs_with_models() -> tuple[str, ...]:
    """The tab ids of the registry's models, each once, in `registry.MODELS` order."""
    return tuple(dict.fromkeys(spec.tab for spec in registry.MODELS))
