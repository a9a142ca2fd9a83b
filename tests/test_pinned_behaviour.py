"""The shipped models' texts, replies and fillers for fixed seeds and settings, pinned.

`tests/data/pinned_behaviour.json` was recorded before the package was reshaped (issue "Room
to grow"), from the commit before it; a change of code layout must not change one character
of what a visitor gets. Re-record it (`python tests/test_pinned_behaviour.py`) only for a
change that means to alter behaviour, such as a retrained model, and say so in the commit.
"""
import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
PINNED = Path(__file__).resolve().parent / "data" / "pinned_behaviour.json"
GENERATION_TOKENS = 150

GENERATIONS = [
    dict(model="shakespeare-gru", temperature=0.0),
    dict(model="shakespeare-gru", temperature=0.8, seed=1),
    dict(model="shakespeare-gru", temperature=0.8, top_k=20, seed=4),
    dict(model="shakespeare-gru", temperature=1.0, top_p=0.9, seed=2),
    dict(model="shakespeare-gru", temperature=0.7, repetition_penalty=1.3, seed=3),
    dict(model="shakespeare-lstm", temperature=0.0),
    dict(model="shakespeare-lstm", temperature=0.8, seed=1),
    dict(model="shakespeare-lstm", temperature=0.9, top_k=40, top_p=0.95, seed=7),
]
PROMPTS = ("ROMEO:\n", "JULIET:\nO Romeo, Romeo! 你好")
CHATS = [
    dict(message="Hello!"),
    dict(message="What is the capital of Japan?"),
    dict(message="what is the capital of peru?", persona="shakespeare"),
    dict(message="Tell me a joke.", decoding="greedy"),
    dict(message="Do you like music?", decoding="sample", seed=5, temperature=0.9, top_k=30),
    dict(message="And Bolivia?", history=("What is the capital of Peru?", "The capital of Peru is Lima.")),
    dict(message="Who are you?", persona="shakespeare", beam_width=2, length_penalty=1.0),
]
FILLS = [("Paris is the capital of ___.", 5), ("The capital of Japan is ___.", 5), ("To be, or not to ___.", 5),
         ("O Romeo, Romeo! wherefore art thou [MASK]?", 3), ("People from Brazil speak ___.", 10),
         ("I like to ___ in the morning.", 5), ("To be, or not to be, that is the ___.", 5)]


def observe(engine) -> dict:
    """What the engine answers to every pinned request, as plain JSON data."""
    from rnn_demo.serving import ChatRequest, FillRequest, GenerationRequest

    found = {"generate": [], "chat": [], "fill": []}
    for settings in GENERATIONS:
        for prompt in PROMPTS:
            result = engine.generate(GenerationRequest(prompt=prompt, max_tokens=GENERATION_TOKENS, **settings))
            found["generate"].append({"prompt": prompt, "settings": settings, "text": result.text,
                                      "tokens": result.tokens, "stop_reason": result.stop_reason})
    for settings in CHATS:
        *_, reply = engine.chat(ChatRequest(**settings))
        found["chat"].append({
            "settings": {key: list(value) if isinstance(value, tuple) else value for key, value in settings.items()},
            "reply": reply.text, "candidates": [[text, round(log_p, 5)] for text, log_p in reply.candidates],
            "source_pieces": reply.source_pieces, "reply_pieces": reply.reply_pieces,
            "attention_sum": None if reply.attention is None else round(float(np.asarray(reply.attention).sum()), 4),
            "notes": reply.notes})
    for sentence, top_k in FILLS:
        result = engine.fill(FillRequest(sentence, top_k))
        found["fill"].append({
            "sentence": sentence, "top_k": top_k,
            "candidates": [[text, round(p, 6)] for text, p in result.candidates], "completed": result.completed,
            "best_model_probability": round(result.best_model_probability, 6), "not_sure": result.not_sure,
            "quoted": result.quoted, "model_only": {text: round(p, 6) for text, p in result.model_only.items()},
            "matched_words": result.matched_words, "notes": result.notes})
    return found


@pytest.fixture(scope="module")
def observed() -> dict:
    """What the shipped models answer now, tuples turned to lists as in the pinned file."""
    from rnn_demo.serving import Engine

    return json.loads(json.dumps(observe(Engine(ROOT / "assets")), ensure_ascii=False))


@pytest.mark.parametrize("kind", ["generate", "chat", "fill"])
def test_the_shipped_models_answer_as_pinned(observed, kind):
    pinned = json.loads(PINNED.read_text(encoding="utf-8"))[kind]
    assert len(observed[kind]) == len(pinned)
    for index, (now, then) in enumerate(zip(observed[kind], pinned)):
        _assert_same(now, then, f"{kind}[{index}]")


def _assert_same(now, then, where: str) -> None:
    """Texts, counts and flags equal; probabilities within 1e-4 (BLAS sums in an order that
    depends on its thread count, so the last digits of a float may differ between runs)."""
    if isinstance(then, float):
        assert now == pytest.approx(then, abs=1e-4), where
    elif isinstance(then, list):
        assert isinstance(now, list) and len(now) == len(then), (where, now, then)
        for index, (a, b) in enumerate(zip(now, then)):
            _assert_same(a, b, f"{where}[{index}]")
    elif isinstance(then, dict):
        assert isinstance(now, dict) and now.keys() == then.keys(), (where, now, then)
        for key in then:
            _assert_same(now[key], then[key], f"{where}.{key}")
    else:
        assert now == then, where


if __name__ == "__main__":  # re-record (see the module docstring)
    sys.path.insert(0, str(ROOT))
    from rnn_demo.serving import Engine

    PINNED.write_text(json.dumps(observe(Engine(ROOT / "assets")), indent=1, ensure_ascii=False), encoding="utf-8")
