"""The glass box's rendering: readable token labels, and text coloured piece by piece with the alternatives on demand.

A coloured piece is a `<span>` whose colour runs from green (likely, or little surprise) to red; hovering
it, or tapping it on a phone (it takes the focus), shows its note: its probability or bits, and the
model's top alternatives there. Colours are translucent over the theme's own text colour, so they read
in light and dark mode alike.
"""
from __future__ import annotations

import dataclasses
import html
import math
from typing import Iterable, Iterator, Sequence

from ..serving import ChatReply
from ..serving.generation import MAX_UTF8_BYTES, readable_piece
from ..serving.inspection import Segment, Step, segments, step_of
from ..tokenizer import Tokenizer
from .text import BYTE_PIECE, ENGLISH, say, token_label as readable_label

READABLE_MARKS = {"␣": " ", "⏎": "\n"}  # `readable_piece`'s marks, and the text each stands for
MAX_HEAT_BITS = 12.0  # surprise at which the colour is fully red
# The styles of every glass component (scoped to it by Gradio's css_template).
CSS = """
.glass { line-height: 1.9; white-space: pre-wrap; word-break: break-word; font-family: var(--font-mono); font-size: 14px; }
.glass-piece { position: relative; border-radius: 3px; padding: 1px 0; cursor: help; outline: none;
  background: hsl(calc(120 - 120 * var(--heat)) 85% 50% / 0.35); }
.glass-piece:hover, .glass-piece:focus { box-shadow: 0 0 0 2px var(--color-accent); }
.glass-piece:hover::after, .glass-piece:focus::after { content: attr(data-note); position: absolute; left: 0;
  top: 1.6em; z-index: 20; white-space: pre; font-size: 12px; line-height: 1.4; padding: 6px 8px;
  background: var(--background-fill-primary); color: var(--body-text-color);
  border: 1px solid var(--border-color-primary); border-radius: 6px; box-shadow: var(--shadow-drop-lg);
  pointer-events: none; }  /* a note never hides the pieces under it from the mouse */
/* One note at a time. With a mouse, the piece under it (one clicked earlier keeps the focus, not its note);
   on a touch screen, the piece tapped last (one hovered or tapped before may stay "hovered" there). */
@media (hover: hover) { .glass:has(.glass-piece:hover) .glass-piece:focus:not(:hover)::after { content: none; } }
@media (hover: none) { .glass-piece:hover:not(:focus)::after { content: none; } }
.glass-prompt { opacity: 0.6; }
.glass-mark { opacity: 0.5; }
.glass-legend { display: flex; align-items: center; gap: 6px; font-size: 12px; margin: 4px 0 8px; flex-wrap: wrap; }
.glass-scale { width: 120px; height: 10px; border-radius: 3px;
  background: linear-gradient(to right, hsl(120 85% 50% / 0.35), hsl(60 85% 50% / 0.35), hsl(0 85% 50% / 0.35)); }
.glass-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 10px; }
.glass-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px; min-width: 0; }
.glass-card h4 { margin: 0 0 4px; }
.glass-stats { font-size: 12px; margin-bottom: 6px; }
"""


def piece_label(piece: str, language: str = ENGLISH) -> str:
    """A SentencePiece piece as the page names it (`text.token_label`): "␣" starts a word, "⏎" is a new
    line, control symbols are named and a byte is given by its value.

    Args:
        piece: the tokenizer's piece (`▁the`, `<sep>`, `<0xE4>`), or one `readable_piece` wrote (`␣the`).
        language: the visitor's.
    """
    return readable_label(readable_piece(piece), language)


def grouped_labels(pieces: Sequence[str], language: str = ENGLISH) -> list[tuple[str, list[int]]]:
    """Labels of a sequence of pieces, the byte pieces of one UTF-8 character joined into that character.

    Returns:
        (label, indices of the pieces it stands for) in order; every index appears once.
    """
    groups, pending = [], []
    for index, piece in enumerate(pieces):
        byte = BYTE_PIECE.fullmatch(piece)
        if byte is None:
            groups += [(piece_label(pieces[i], language), [i]) for i in pending]
            groups.append((piece_label(piece, language), [index]))
            pending = []
            continue
        pending.append(index)
        raw = bytes(int(BYTE_PIECE.fullmatch(pieces[i]).group(1), 16) for i in pending)
        try:
            groups.append((raw.decode("utf-8"), pending))
            pending = []
        except UnicodeDecodeError:
            if len(pending) == MAX_UTF8_BYTES:  # not a character: each byte stands alone
                groups += [(piece_label(pieces[i], language), [i]) for i in pending]
                pending = []
    groups += [(piece_label(pieces[i], language), [i]) for i in pending]
    return groups


def token_label(tokenizer: Tokenizer, token: int, language: str = ENGLISH) -> str:
    return piece_label(tokenizer.piece(token), language)


def top_bars(tokenizer: Tokenizer, step: Step | None, language: str = ENGLISH) -> dict[str, float]:
    """A step's alternatives as {label: probability}, for a `gr.Label` bar chart ({} before any step)."""
    if step is None:
        return {}
    return {token_label(tokenizer, token, language): probability for token, probability in step.top}


def probability_note(tokenizer: Tokenizer, segment: Segment, language: str = ENGLISH) -> str:
    """A piece's note: its probability and bits, then the model's alternatives where it began."""
    lines = [say("glass.note_probability", language, percent=_percent(math.exp(segment.log_prob)),
                 bits=f"{segment.bits:.2f}"), say("glass.note_alternatives", language)]
    first = segment.steps[0]
    lines += [f"{'▸' if token == first.token else ' '} {token_label(tokenizer, token, language)}  {_percent(p)}"
              for token, p in first.top]
    return "\n".join(lines)


def _percent(probability: float) -> str:
    return f"{probability:.1%}" if probability >= 0.001 else f"{probability:.1e}"


def probability_heat(segment: Segment) -> float:
    """0 for a piece the model was sure of, 1 for one it gave no chance."""
    return 1.0 - math.exp(segment.log_prob)


def bits_heat(bits: float) -> float:
    """0 for no surprise, 1 for MAX_HEAT_BITS bits or more."""
    return min(max(bits, 0.0), MAX_HEAT_BITS) / MAX_HEAT_BITS


def piece_span(text: str, heat: float, note: str, language: str = ENGLISH) -> str:
    """One coloured piece: `text` (its label if it writes none), `heat` in [0, 1], `note` shown on demand."""
    return (f'<span class="glass-piece" tabindex="0" style="--heat:{heat:.3f}" data-note="{html.escape(note)}">'
            f"{shown_text(text, language)}</span>")


def shown_text(text: str, language: str = ENGLISH) -> str:
    """Text as a coloured piece shows it (escaped): a newline as its mark, then the line break."""
    escaped = html.escape(text)
    return escaped.replace("\n", f'<span class="glass-mark">{say("token.newline", language)}</span>\n')


def probability_spans(tokenizer: Tokenizer, found: Iterable[Segment], language: str = ENGLISH) -> list[str]:
    """Spans of segments coloured by the model's probability of each."""
    return [piece_span(segment.text or token_label(tokenizer, segment.steps[0].token, language),
                       probability_heat(segment), probability_note(tokenizer, segment, language), language)
            for segment in found]


def legend(language: str, low_key: str, high_key: str) -> str:
    """The colour scale, from `low_key`'s words (green) to `high_key`'s (red)."""
    return (f'<div class="glass-legend">{html.escape(say(low_key, language))}<span class="glass-scale"></span>'
            f'{html.escape(say(high_key, language))} · {html.escape(say("glass.legend_hint", language))}</div>')


def probability_text(spans: Sequence[str], language: str = ENGLISH, prompt: str = "") -> str:
    """Coloured continuation (after the dimmed prompt), with its legend, as one block of HTML."""
    prompt_html = f'<span class="glass-prompt">{shown_text(prompt, language)}</span>' if prompt else ""
    return (legend(language, "glass.likely", "glass.unlikely")
            + f'<div class="glass">{prompt_html}{"".join(spans)}</div>')


class StreamView:
    """What the Shakespeare tab shows of a stream so far: the coloured pieces and the last step's top 5."""

    def __init__(self, tokenizer: Tokenizer, language: str = ENGLISH):
        self.tokenizer, self.language = tokenizer, language
        self.spans: list[str] = []
        self.last: Step | None = None

    def add(self, chunk) -> None:
        """Takes one `GenerationChunk` (each chunk's events write whole characters)."""
        steps = [step_of(event.token, event.logits) for event in chunk.events]
        self.spans += probability_spans(self.tokenizer, segments(self.tokenizer, steps), self.language)
        self.last = steps[-1] if steps else self.last

    def watching(self, chunks: Iterable) -> Iterator:
        """`chunks`, each taken by `add` before it is passed on."""
        for chunk in chunks:
            self.add(chunk)
            yield chunk

    def bars(self) -> dict[str, float]:
        return top_bars(self.tokenizer, self.last, self.language)

    def html(self) -> str:
        return probability_text(self.spans, self.language) if self.spans else empty(self.language)


def empty(language: str = ENGLISH) -> str:
    """The glass box before any text."""
    return f'<p class="glass-empty">{html.escape(say("glass.empty", language))}</p>'


def growing(reply: ChatReply) -> Iterator[ChatReply]:
    """A complete reply as it was written: its first piece with its row of attention, then two, and so on;
    the last is `reply` itself. (Each partial text is read from the readable pieces; the last is exact.)"""
    groups = grouped_labels(reply.reply_pieces)
    if reply.attention is None or len(groups) < 2:
        yield reply
        return
    texts = [_piece_text(label, [reply.reply_pieces[i] for i in indices]) for label, indices in groups]
    for count in range(1, len(groups)):
        rows = groups[count - 1][1][-1] + 1  # the rows of the pieces written so far
        yield dataclasses.replace(reply, text="".join(texts[:count]), done=False,
                                  reply_pieces=reply.reply_pieces[:rows], attention=reply.attention[:rows], notes=[])
    yield reply


def _piece_text(label: str, pieces: list[str]) -> str:
    """The text a group of readable pieces writes (byte pieces: the character they make, if they make one)."""
    if BYTE_PIECE.fullmatch(pieces[0]):
        return label if len(label) == 1 else ""
    text = pieces[0]
    for mark, written in READABLE_MARKS.items():
        text = text.replace(mark, written)
    return text
