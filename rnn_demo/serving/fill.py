"""Fill the blank: the gap filler's ranked candidates for one gap, mixed with the memory of the plays."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..config import InputError
from ..data import quotes
from ..data.encoding import fill_side_ids, fill_source
from ..data.fill_sentences import parse_gap
from ..decoding import merged_probabilities, seq2seq_beam_search, teacher_forced, top_normalised
from ..tokenizer import BOS_ID, EOS_ID, Tokenizer
from .requests import FillRequest

FILL_BEAM_MIN = 8  # beams searched for a fill, at least, so that merged candidates are well ranked
NOT_SURE_PROBABILITY = 0.3  # below this probability, the best filler is flagged "not sure"
FILL_LENGTH_PENALTY = 0.0  # fillers are ranked by their raw probability, whatever their length
CALIBRATION_KEY = "calibration"  # in config.json's metrics: Platt scaling {"a", "b"} fitted on validation gaps
LOG_PROBABILITY_FLOOR = -30.0  # fillers less likely than e^-30 are treated as that likely
CALIBRATED_MEANING = ("Each probability is the chance that the filler is the word the writer used, "
                      "calibrated on held-out sentences.")
NORMALISED_MEANING = "Probabilities are shared among the fillers shown (they add up to 100%)."


def calibrated_probability(model_probability: float, calibration: dict) -> float:
    """The chance that a filler is the word the writer used: sigmoid(a · log p + b) of the model's own
    probability p of the filler, with (a, b) fitted on validation gaps (`evaluation.fit_fill_calibration`)."""
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


def fillers(loaded, tokenizer: Tokenizer, request: FillRequest, left: str, right: str, *, deadline_s: float,
            quotations=()) -> FillResult:
    """The likeliest fillers of the gap between `left` and `right`.

    Args:
        loaded: the gap filler's `LoadedModel`.
        tokenizer: the shared tokenizer.
        request: a checked request (`requests.check_fill`) whose sentence is `left` + gap + `right`.
        deadline_s: wall-clock seconds after which the beam search returns what it has.
        quotations: spans the memory of the plays found for this gap (`Engine.quotations`).
    """
    top_k = request.top_k
    ranking = rank_fill(loaded.numpy_model, tokenizer, loaded.checkpoint.model_config, left, right,
                        beam_width=max(FILL_BEAM_MIN, top_k), deadline_s=deadline_s, quotations=quotations)
    notes = [f"The sentence is {ranking.tokens} tokens long and the model reads only the {ranking.read} around "
             f"the gap: its ends were left out."] if ranking.tokens > ranking.read else []
    candidates, best = top_normalised(ranking.probabilities, top_k)
    calibration = (loaded.checkpoint.meta.get("metrics") or {}).get(CALIBRATION_KEY)
    meaning = NORMALISED_MEANING
    if calibration:
        candidates = [(text, calibrated_probability(ranking.probabilities[text], calibration)) for text, _ in candidates]
        best, meaning = (candidates[0][1] if candidates else 0.0), CALIBRATED_MEANING
    completed = left + candidates[0][0] + right if candidates else request.sentence
    shown = {text for text, _ in candidates}
    return FillResult(candidates, completed, left, right, best, best < NOT_SURE_PROBABILITY, notes,
                      {text: play for text, play in ranking.quoted.items() if text in shown},
                      {text: p for text, p in ranking.model_only.items() if text in shown}, ranking.matched_words,
                      meaning)


def rank_fill(numpy_model, tokenizer: Tokenizer, config, left: str, right: str, *, beam_width: int, deadline_s: float,
              quotations=()) -> FillRanking:
    """The gap filler's beam search, hypotheses merged by surface text, mixed with `quotations`.

    Args:
        numpy_model: the gap filler's `NumpySeq2Seq`.
        tokenizer: the shared tokenizer.
        config: the gap filler's `Seq2SeqConfig` (how much it reads and writes).
        left, right: the sentence before and after the gap.
        beam_width: hypotheses kept; more gives better-ranked merged candidates.
        deadline_s: wall-clock seconds after which the beam search returns what it has.
        quotations: spans the memory of the plays found for this gap (`Engine.quotations`).
    Returns:
        Every filler found, with its probability (not normalised).
    """
    left_ids, right_ids, prefix = fill_side_ids(tokenizer, left, right)
    source = fill_source(tokenizer, left_ids, right_ids, max_source_tokens=config.max_source_tokens)
    hypotheses, memory = seq2seq_beam_search(numpy_model, source, start_id=BOS_ID, end_id=EOS_ID, beam_width=beam_width,
                                             max_new_tokens=config.max_target_tokens, deadline_s=deadline_s,
                                             length_penalty=FILL_LENGTH_PENALTY)
    probabilities = merged_probabilities((tokenizer.decode(h.tokens), h.log_prob) for h in hypotheses if h.finished)
    ranking = FillRanking(probabilities, len(left_ids) + len(right_ids), len(source) - 1)
    if not quotations:
        return ranking

    scored = dict(probabilities)

    def model_probability(text: str) -> float:  # teacher-forced, for quoted words the beam did not find
        target = tokenizer.encode(prefix + text)[:config.max_target_tokens - 1] + [EOS_ID]
        scored[text] = math.exp(teacher_forced(numpy_model, memory, BOS_ID, target)[0].sum())
        return scored[text]

    ranking.probabilities, found = quotes.mix_quotations(probabilities, quotations, model_probability)
    ranking.quoted = {text: quotation.play for text, quotation in found.items()}
    ranking.model_only = {text: scored[text] for text in found}
    ranking.matched_words = quotations[0].matched_words
    return ranking
