"""The Fill the blank tab: two GRUs read the words on either side of a gap and rank the words that fit it (`/fill`)."""
from __future__ import annotations

import gradio as gr

from ...config import LIMITS
from ...serving import Engine, FillRequest, FillResult
from ..handlers import RAW_VALUES, guarded, shown_to_user
from ..language import of as language_of
from ..text import ENGLISH, say, t, translated

TAB_ID = "fill"
LABEL = "fill.tab"
POSITION = 3

SENTENCE = "Paris is the capital of ___."
EXAMPLES = [SENTENCE, "The capital of Japan is ___.", "To be, or not to ___.",
            "O Romeo, Romeo! wherefore art thou [MASK]?", "People from Brazil speak ___.",
            "I like to ___ in the morning.", "How are ___?", "Thank you very ___."]
FILLER_CLASS = "filler"  # how the completed sentence marks the filler (and colours it)


def make_fill(engine: Engine):
    """The `/fill` handler: (sentence, top-k) → (candidates with probabilities, completed sentence, note).

    Args:
        engine: the engine that fills.

    Returns:
        A function of the tab's inputs, guarded by `handlers.guarded`.
    """

    def fill(sentence: str, top_k: float, request: gr.Request | None = None):
        """Fills the gap in an English sentence with a small recurrent network (a GRU reads the words before the
        gap, another the words after it, backwards; mixed with counts of the words its training sentences had
        between the same neighbours): write ___ (or [MASK]) where the missing word goes, e.g.
        "Paris is the capital of ___." → France. It ranks the 8,000 words it knows (and country and capital
        names of two words), each with its probability of being the word the writer used (checked for
        calibration on held-out sentences).

        Args:
            sentence: a sentence with exactly one gap, ___ or [MASK] (at most 500 characters).
            top_k: how many fillers to return, best first (1 to 10).

        Returns:
            The fillers with their probabilities, the completed sentence, and a note on how sure the model is.
        """
        language = language_of(request)
        with shown_to_user(language):
            result = engine.fill(FillRequest(sentence, top_k))
        if not result.candidates:
            return {}, [(sentence, None)], "  \n".join([say("fill.no_filler", language),
                                                        *(translated(note, language) for note in result.notes)])
        best = result.candidates[0][0]
        completed = [(result.left, None), (best, FILLER_CLASS), (result.right, None)]
        return dict(result.candidates), completed, _note(result, language)

    return guarded(fill)


def _note(result: FillResult, language: str = ENGLISH) -> str:
    """How sure the model is of its best filler, what the memory of the plays added, and what it did not
    read, in `language`."""
    key = ("fill.not_sure" if result.not_sure else "fill.sure") + ("_quoted" if result.quoted else "")
    sureness = say(key, language, percent=f"{result.best_model_probability:.0%}")
    return "  \n".join([sureness, translated(result.meaning, language), *_quotation_lines(result, language),
                        *(f"⚠ {translated(text, language)}" for text in result.notes)])


def _quotation_lines(result: FillResult, language: str) -> list[str]:
    """What the memory of the plays added: each quoted filler, its play, and the RNN's own probability."""
    return [say("fill.quotation", language, text=text, play=play.replace("-", " ").title(),
                words=result.matched_words, percent=f"{result.model_only[text]:.1%}")
            for text, play in result.quoted.items()]


def build(engine: Engine) -> None:
    """The tab's content: the sentence and Fill; beside them (below them on a phone) the fillers, the
    completed sentence and the note."""
    gr.Markdown(t("fill.help"))
    with gr.Row():
        with gr.Column(scale=3):
            sentence = gr.Textbox(label=t("fill.sentence"), value=SENTENCE, max_length=LIMITS.max_sentence_chars,
                                  elem_id="sentence")
            top_k = gr.Slider(1, LIMITS.max_fill_candidates, value=FillRequest.top_k, step=1,
                              label=t("fill.candidates"))
            go = gr.Button(t("fill.button"), variant="primary", elem_id="fill-button")
            gr.Examples(EXAMPLES, inputs=[sentence], label=t("page.examples"))
        with gr.Column(scale=2):
            candidates = gr.Label(label=t("fill.fillers"), elem_id="candidates")
            # No inline category: the colour marks the filler, and its name would be an untranslated word.
            completed = gr.HighlightedText(label=t("fill.completed"), color_map={FILLER_CLASS: "orange"},
                                           show_inline_category=False, elem_id="completed")
            note = gr.Markdown(elem_id="fill-note")
    fill = make_fill(engine)
    outputs = [candidates, completed, note]
    go.click(fill, [sentence, top_k], outputs, api_name="fill", concurrency_id="cpu", **RAW_VALUES)
    sentence.submit(fill, [sentence, top_k], outputs, api_name=False, concurrency_id="cpu", **RAW_VALUES)
