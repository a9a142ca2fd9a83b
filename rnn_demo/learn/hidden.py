"""The recurrence unrolled: a language model's hidden state after each token, and units with a measured role.

A unit's role is found by correlation: over held-out text, each unit's activation after each token is
correlated (Pearson r) with a feature computed from the text itself; the units with the largest |r| for a
feature are shown with that figure. Runs on the NumPy step, no TensorFlow.
"""
from __future__ import annotations

import string

import numpy as np

from ..data import corpora

FEATURES = {  # name: what it is 1 for (0 otherwise)
    "newline_next": "the next token is a line break",
    "in_speaker": "the token is on a speaker's name line (e.g. `ROMEO:`)",
    "punctuation": "the token holds a punctuation mark",
}
ROLE_SAMPLE_CHARS = 6_000  # of each held-out play: ~4,000 tokens in all, enough for a stable r
UNITS_PER_ROLE = 3
PUNCTUATION = set(string.punctuation)


def hidden_states(numpy_model, ids: list[int]) -> np.ndarray:
    """Every layer's h after each token: (layers · units, tokens), layer 0's units first."""
    state, columns = numpy_model.initial_state(), []
    for token in ids:
        _, state = numpy_model._advance(token, state, want_output=False)  # the state only: no logits
        columns.append(np.concatenate([layer[0] for layer in state]))
    return np.stack(columns, axis=1) if columns else np.zeros((0, 0), np.float32)


def piece_texts(tokenizer, ids: list[int]) -> list[str]:
    """Each token's text (a byte or control piece: "")."""
    return [tokenizer.piece_texts[i] or "" for i in ids]


def features(tokenizer, ids: list[int]) -> dict[str, np.ndarray]:
    """{feature: (tokens,) 0/1} for the FEATURES of a token sequence."""
    texts = piece_texts(tokenizer, ids)
    newline = np.array([i == tokenizer.newline_id for i in ids], np.float32)
    in_speaker, line, members = np.zeros(len(ids), np.float32), "", []
    for index, text in enumerate(texts + ["\n"]):  # a line's tokens are marked once the line is whole
        if "\n" in text or index == len(texts):
            if corpora.is_speaker(line.strip()):
                in_speaker[members] = 1.0
            line, members = "", []
        else:
            line += text
            members.append(index)
    return {"newline_next": np.append(newline[1:], 0.0), "in_speaker": in_speaker,
            "punctuation": np.array([any(ch in PUNCTUATION for ch in t) for t in texts], np.float32)}


def correlations(states: np.ndarray, feature: np.ndarray) -> np.ndarray:
    """Pearson r of each unit (row of states) with the feature (0 for a constant unit or feature)."""
    centred = states - states.mean(axis=1, keepdims=True)
    f = feature - feature.mean()
    denominator = np.sqrt((centred ** 2).sum(axis=1) * (f ** 2).sum())
    return np.where(denominator > 0, centred @ f / np.maximum(denominator, 1e-12), 0.0)


def unit_roles(numpy_model, tokenizer, texts: list[str] | None = None) -> dict:
    """For each feature, the UNITS_PER_ROLE units of largest |r| over `texts` (default: the held-out plays'
    first ROLE_SAMPLE_CHARS characters each): {feature: [(unit, r), …]}, with the tokens measured."""
    texts = texts or [play.text[:ROLE_SAMPLE_CHARS] for play in corpora.play_split("validation")]
    states, found = [], {name: [] for name in FEATURES}
    for text in texts:
        ids = tokenizer.encode(text)
        states.append(hidden_states(numpy_model, ids))
        for name, values in features(tokenizer, ids).items():
            found[name].append(values)
    states = np.concatenate(states, axis=1)
    roles = {}
    for name, values in found.items():
        r = correlations(states, np.concatenate(values))
        best = np.argsort(-np.abs(r))[:UNITS_PER_ROLE]
        roles[name] = [(int(unit), round(float(r[unit]), 3)) for unit in best]
    return {"roles": roles, "tokens": int(states.shape[1]), "units": int(states.shape[0])}


def measured_on(roles: dict, meta: dict) -> bool:
    """Whether stored `roles` (`train learn --part roles`) were measured on the weights whose config.json is
    `meta`: the same files, by sha256. Roles of other weights name other units."""
    return (bool(roles.get("files")) and roles.get("files") == meta.get("files")
            and set(roles.get("roles", {})) == set(FEATURES))


def order_units(states: np.ndarray, by: str) -> np.ndarray:
    """Unit indices sorted by `by`: "variance" across the tokens, or "activity" (mean |h|), largest first."""
    if by not in ("variance", "activity"):
        raise ValueError(f"sort units by variance or activity, not {by!r}")
    score = states.var(axis=1) if by == "variance" else np.abs(states).mean(axis=1)
    return np.argsort(-score, kind="stable")
