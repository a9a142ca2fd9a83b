"""The Fill the blank tab: an encoder-decoder writes the missing words of a sentence, ranked (`/fill`)."""
from __future__ import annotations

import gradio as gr

from ...config import LIMITS
from ...serving import Engine, FillRequest, FillResult
from ..handlers import RAW_VALUES, guarded, shown_to_user

TAB_ID = "fill"
LABEL = "Fill the blank"
POSITION = 3

HELP = ("Write a sentence with one gap, `___` (two or more underscores) or `[MASK]`. An "
        "encoder-decoder of the chatbot's family writes the missing words; beam search ranks them. "
        "When the words around the gap (four or more, and most of those typed) match a passage of "
        "the training plays, the words the play has there are mixed in (📜 in the note), weighted "
        "by how many words matched.")
SENTENCE = "Paris is the capital of ___."
EXAMPLES = [SENTENCE, "The capital of Japan is ___.", "To be, or not to ___.",
            "O Romeo, Romeo! wherefore art thou [MASK]?", "People from Brazil speak ___.",
            "I like to ___ in the morning."]
NO_FILLER = "The model found no filler for this gap."
FILLER_CLASS = "filler"  # how the completed sentence marks the filler (and colours it)


def make_fill(engine: Engine):
    """The `/fill` handler: (sentence, top-k) → (candidates with probabilities, completed sentence, note).

    Args:
        engine: the engine that fills.

    Returns:
        A function of the tab's inputs, guarded by `handlers.guarded`.
    """

    def fill(sentence: str, top_k: float):
        with shown_to_user():
            result = engine.fill(FillRequest(sentence, top_k))
        if not result.candidates:
            return {}, [(sentence, None)], "  \n".join([NO_FILLER, *result.notes])
        best = result.candidates[0][0]
        completed = [(result.left, None), (best, FILLER_CLASS), (result.right, None)]
        return dict(result.candidates), completed, _note(result)

    return guarded(fill)


def _note(result: FillResult) -> str:
    """How sure the model is of its best filler, what the memory of the plays added, and what it did not read."""
    who = "The model and the memory of the plays give" if result.quoted else "The model gives"
    sureness = (f"Not sure: {who[0].lower() + who[1:]} its best filler only {result.best_model_probability:.0%}."
                if result.not_sure else f"{who} its best filler {result.best_model_probability:.0%}.")
    return "  \n".join([sureness, *_quotation_lines(result), *(f"⚠ {text}" for text in result.notes)])


def _quotation_lines(result: FillResult) -> list[str]:
    """What the memory of the plays added: each quoted filler, its play, and the RNN's own probability."""
    return [f"📜 “{text}” is what *{play.replace('-', ' ').title()}* has between these words "
            f"({result.matched_words} neighbouring words matched); "
            f"the RNN alone gives it {result.model_only[text]:.1%}."
            for text, play in result.quoted.items()]


def build(engine: Engine) -> None:
    """The tab's content: the sentence and Fill on the left; fillers, completed sentence and note on the right."""
    gr.Markdown(HELP)
    with gr.Row():
        with gr.Column(scale=3):
            sentence = gr.Textbox(label="Sentence", value=SENTENCE, max_length=LIMITS.max_sentence_chars,
                                  elem_id="sentence")
            top_k = gr.Slider(1, LIMITS.max_fill_candidates, value=FillRequest.top_k, step=1, label="Candidates")
            go = gr.Button("Fill", variant="primary", elem_id="fill-button")
            gr.Examples(EXAMPLES, inputs=[sentence])
        with gr.Column(scale=2):
            candidates = gr.Label(label="Fillers (probability among those shown)", elem_id="candidates")
            completed = gr.HighlightedText(label="Completed sentence", color_map={FILLER_CLASS: "orange"},
                                           elem_id="completed")
            note = gr.Markdown(elem_id="fill-note")
    fill = make_fill(engine)
    outputs = [candidates, completed, note]
    go.click(fill, [sentence, top_k], outputs, api_name="fill", concurrency_id="cpu", **RAW_VALUES)
    sentence.submit(fill, [sentence, top_k], outputs, api_name=False, concurrency_id="cpu", **RAW_VALUES)
