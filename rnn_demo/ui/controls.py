"""The sampling controls that several tabs share, with the ranges the page offers.

The page offers narrower ranges than the engine accepts from API callers (`config.LIMITS`): the
useful part of each. Each control's starting value is its request's default, passed in by the tab.
"""
from __future__ import annotations

import gradio as gr
from gradio.i18n import I18nData

from ..config import LIMITS
from .text import t

MAX_TEMPERATURE = 2  # beyond this, text is noise; API callers may go up to LIMITS.max_temperature
TEMPERATURE_STEP = 0.05
MAX_TOP_K = 200  # API callers may go up to LIMITS.max_top_k
TOP_P_STEP = 0.01


def temperature(value: float, *, label: I18nData) -> gr.Slider:
    """The temperature slider, from 0 (greedy) to MAX_TEMPERATURE."""
    return gr.Slider(0, MAX_TEMPERATURE, value=value, step=TEMPERATURE_STEP, label=label)


def top_k(value: int, *, label: I18nData) -> gr.Slider:
    """The top-k slider, from 0 (off) to MAX_TOP_K."""
    return gr.Slider(0, MAX_TOP_K, value=value, step=1, label=label)


def top_p(value: float, *, label: I18nData) -> gr.Slider:
    """The top-p slider, from the engine's lowest top-p to 1 (off)."""
    return gr.Slider(LIMITS.min_top_p, 1, value=value, step=TOP_P_STEP, label=label)


def seed(value: int) -> gr.Number:
    """The seed box: any whole number the engine accepts."""
    return gr.Number(value=value, precision=0, minimum=0, maximum=LIMITS.max_seed, label=t("control.seed"))
