"""The page's paced replay refuses what the page itself never sends (it is callable by number)."""
import gradio as gr
import pytest

from rnn_demo.config import LIMITS
from rnn_demo.ui.tabs.shakespeare import replay


def _steps(count):
    return {"text": "ab" * count, "steps": [[2 * i + 2, {}] for i in range(count)],
            "glass_counts": list(range(1, count + 1)), "glass": [], "tokens": count, "max_tokens": count}


@pytest.mark.parametrize("steps, pace", [
    (_steps(LIMITS.max_new_tokens + 1), 5),           # more steps than a request may ask for
    (_steps(3), 0.0001),                               # a pace the page does not offer: hours of replay
    ({**_steps(3), "glass_counts": [1]}, 5),            # parts that do not line up
    ({"text": 5, "steps": []}, 5),
])
def test_forged_replays_are_refused(steps, pace):
    with pytest.raises(gr.Error, match="Nothing to replay"):
        next(replay(steps, pace))


def test_a_replay_of_the_pages_own_steps_runs():
    frames = replay(_steps(2), 60)
    assert next(frames)[0] == "ab"
