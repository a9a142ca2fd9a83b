"""Fill the blank: the gap filler's ranked candidates for one gap, mixed with the memory of the plays."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..config import InputError
from ..data import quotes
from ..data.encoding import gap_sides, word_key
from ..data.fill_sentences import parse_gap
from ..decoding import top_normalised
from ..tokenizer import Tokenizer
from .requests import FillRequest

RANKED_WORDS = 50  # the likeliest words kept for ranking (the page shows at most 10)
UNKNOWN_INDEX = 0  # the gap filler's unknown word: never shown as a filler
NOT_SURE_PROBABILITY = 0.3  # below this probability, the best filler is flagged "not sure"
CALIBRATION_KEY = "calibration"  # in config.json's metrics: {"method": "model" | "platt", "a", "b"} chosen on validation gaps
LOG_PROBABILITY_FLOOR = -30.0  # fillers less likely than e^-30 are treated as that likely
CALIBRATED_MEANING = ("Each probability is the chance that the filler is the word the writer used, "
                      "calibrated on held-out sentences.")
MODEL_MEANING = ("Each probability is the model's own chance that the filler is the word the writer used: on "
                 "held-out sentences these chances matched how often it was right, so they are shown unchanged.")
NORMALISED_MEANING = "Probabilities are shared among the fillers shown (they add up to 100%)."


def calibrated_probability(model_probability: float, calibration: dict) -> float:
    """The chance that a filler is the word the writer used: the model's own probability p of the filler where
    the validation gaps found it calibrated as it is (method "model"), else sigmoid(a · log p + b) with (a, b)
    fitted on them (`evaluation.fit_fill_calibration`)."""
    if calibration.get("method") == "model":
        return model_probability
    x = max(math.log(max(model_probability, 1e-300)), LOG_PROBABILITY_FLOOR)
    return 1.0 / (1.0 + math.exp(-(calibration["a"] * x + calibration["b"])))


@dataclass
class FillResult:
    """Ranked fillers of one gap."""

    candidates: list[tuple[str, float]]  # (filler, probability as `meaning` says), best first
    completed: str  # the sentence with the best filler
    left: str
    right: str
    best_model_probability: float  # the best filler's probability (not normalised), memory mixed in
    not_sure: bool
    notes: list[str] = field(default_factory=list)  # what the model did not read, said to the user
    quoted: dict[str, str] = field(default_factory=dict)  # filler → play it was found in (the memory)
    model_only: dict[str, float] = field(default_factory=dict)  # quoted filler → the RNN's own probability
    matched_words: int = 0  # neighbouring words the quotations matched (0: none found)
    meaning: str = NORMALISED_MEANING  # what the candidates' probabilities are, said to the user


@dataclass
class FillRanking:
    """Every filler found for one gap, with its probability (not normalised)."""

    probabilities: dict[str, float]  # filler → probability, the memory mixed in
    tokens: int  # tokens of the sentence without its gap
    read: int  # of which the model read (the rest was cut at the far ends)
    quoted: dict[str, str] = field(default_factory=dict)  # filler → play, for fillers the memory found
    model_only: dict[str, float] = field(default_factory=dict)  # quoted filler → the model's own probability
    matched_words: int = 0


def gap_of(sentence: str) -> tuple[str, str]:
    """(left, right): the sentence before and after its one gap, or InputError saying how to write a gap."""
    try:
        return parse_gap(sentence)
    except ValueError as error:
        raise InputError(str(error)) from None


def fillers(loaded, tokenizer: Tokenizer, request: FillRequest, left: str, right: str, *, quotations=()) -> FillResult:
    """The likeliest fillers of the gap between `left` and `right`.

    Args:
        loaded: the gap filler's `LoadedModel`.
        tokenizer: the shared tokenizer.
        request: a checked request (`requests.check_fill`) whose sentence is `left` + gap + `right`.
        quotations: spans the memory of the plays found for this gap (`Engine.quotations`).
    """
    ranking = rank_fill(loaded.numpy_model, tokenizer, loaded.checkpoint.model_config, left, right,
                        quotations=quotations)
    notes = [f"The sentence is {ranking.tokens} tokens long and the model reads only the {ranking.read} around "
             f"the gap: its ends were left out."] if ranking.tokens > ranking.read else []
    candidates, best = top_normalised(ranking.probabilities, request.top_k)
    calibration = (loaded.checkpoint.meta.get("metrics") or {}).get(CALIBRATION_KEY)
    meaning = NORMALISED_MEANING
    if calibration:
        candidates = [(text, calibrated_probability(ranking.probabilities[text], calibration)) for text, _ in candidates]
        best = candidates[0][1] if candidates else 0.0
        meaning = MODEL_MEANING if calibration.get("method") == "model" else CALIBRATED_MEANING
    completed = left + candidates[0][0] + right if candidates else request.sentence
    shown = {text for text, _ in candidates}
    return FillResult(candidates, completed, left, right, best, best < NOT_SURE_PROBABILITY, notes,
                      {text: play for text, play in ranking.quoted.items() if text in shown},
                      {text: p for text, p in ranking.model_only.items() if text in shown}, ranking.matched_words,
                      meaning)


def rank_fill(numpy_model, tokenizer: Tokenizer, config, left: str, right: str, *, quotations=()) -> FillRanking:
    """The gap filler's likeliest words for the gap, mixed with `quotations`.

    Args:
        numpy_model: the gap filler's `NumpyGapWords`.
        tokenizer: the shared tokenizer.
        config: the gap filler's `GapWordsConfig` (its words, how much it reads).
        left, right: the sentence before and after the gap.
        quotations: spans the memory of the plays found for this gap (`Engine.quotations`).
    Returns:
        The `RANKED_WORDS` likeliest words (never the unknown word) and any quoted filler, each with its
        probability (not normalised).
    """
    left_ids, right_ids = gap_sides(tokenizer, left, right)
    chances = numpy_model.mixed_probabilities(left_ids, right_ids, left, right)
    best = np.argsort(-chances)[:RANKED_WORDS]
    probabilities = {config.words[i]: float(chances[i]) for i in best if i != UNKNOWN_INDEX}
    read = min(len(left_ids), config.max_side_tokens) + min(len(right_ids), config.max_side_tokens)
    ranking = FillRanking(probabilities, len(left_ids) + len(right_ids), read)
    if not quotations:
        return ranking

    def model_probability(text: str) -> float:  # a quoted word it does not know has no chance of its own
        index = numpy_model.word_index.get(word_key(text), UNKNOWN_INDEX)
        return float(chances[index]) if index != UNKNOWN_INDEX else 0.0

    ranking.probabilities, found = quotes.mix_quotations(probabilities, quotations, model_probability)
    ranking.quoted = {text: quotation.play for text, quotation in found.items()}
    ranking.model_only = {text: model_probability(text) for text in found}
    ranking.matched_words = quotations[0].matched_words
    return ranking
