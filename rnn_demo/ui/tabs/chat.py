"""The Chatbot tab: a GRU encoder-decoder with attention answers, and shows where it looked (`/chat`)."""
from __future__ import annotations

import html
import itertools

import gradio as gr
import pydantic
from gradio.components.chatbot import ChatbotDataMessages

from ...config import LIMITS
from ...serving import DECODINGS, ChatReply, ChatRequest, Engine
from .. import controls
from ..handlers import RAW_VALUES, guarded, shown_to_user

TAB_ID = "chatbot"
LABEL = "Chatbot"
POSITION = 2

HELP = ("A GRU encoder-decoder with additive attention. It reads your message and the last two "
        "turns, and writes a reply; the map below shows where it looked for each word.")
EXAMPLES = ["Hello!", "What is the capital of Japan?", "Which currency do they use in Mexico?",
            "What countries border Germany?", "Do you like music?", "Tell me a joke."]
PERSONA_CHOICES = [("Modern", "modern"), ("Shakespearean", "shakespeare")]
MAX_HEATMAP_COLUMNS = 64
LENGTH_PENALTY_STEP = 0.1
HISTORY_EXAMPLE = '[] or [{"role": "user", "content": [{"type": "text", "text": "Hello"}]}, …]'


class ChatHistory(ChatbotDataMessages):
    """Gradio's chat messages, whose malformed API values are refused with a message that says so
    (Gradio validates a history even without preprocessing, and lets pydantic's error through,
    which users see only as "Error")."""

    @classmethod
    def model_validate(cls, obj, **kwargs):
        try:
            return super().model_validate(obj, **kwargs)
        except pydantic.ValidationError as error:
            first = error.errors()[0]
            where = ".".join(map(str, first["loc"])) or "history"
            raise gr.Error(f"history is not a list of chat messages ({where}: {first['msg']}); "
                           f"send {HISTORY_EXAMPLE}", print_exception=False) from None


def _chatbot(**options) -> gr.Chatbot:
    """The chat display, its history checked by `ChatHistory` (then by the engine).

    The data model is set on the instance: a subclass of a Gradio component would make Gradio
    write a .pyi stub next to this module."""
    chatbot = gr.Chatbot(**options)
    chatbot.data_model = ChatHistory
    return chatbot


def attention_html(reply: ChatReply) -> str:
    """The attention of the last reply as a heatmap table: reply tokens (rows) × input tokens."""
    if reply.attention is None or not len(reply.reply_pieces):
        return "<p>The attention map of the last reply appears here.</p>"
    header = "".join(f"<th>{html.escape(piece)}</th>" for piece in reply.source_pieces[:MAX_HEATMAP_COLUMNS])
    rows = []
    for piece, weights in zip(reply.reply_pieces, reply.attention):
        cells = "".join(
            f'<td title="{w:.2f}" style="background: rgba(234, 88, 12, {min(1.0, float(w)):.2f})"></td>'
            for w in weights[:MAX_HEATMAP_COLUMNS])
        rows.append(f"<tr><th>{html.escape(piece)}</th>{cells}</tr>")
    candidates = "".join(f"<li>{html.escape(text) or '∅'} <small>(log p = {log_p:.2f})</small></li>"
                         for text, log_p in reply.candidates)
    listing = f"<p>Beam search n-best:</p><ol>{candidates}</ol>" if candidates else ""
    notes = "".join(f'<p class="note">⚠ {html.escape(note)}</p>' for note in reply.notes)
    return (f'<div class="attention">{notes}<p>Attention while writing the reply (darker = more weight; each row '
            f'sums to 1)</p><table><tr><th></th>{header}</tr>{"".join(rows)}</table>{listing}</div>')


EMPTY_ATTENTION = attention_html(ChatReply("", True))


def make_chat(engine: Engine):
    """The `/chat` handler: (message, history, settings) → streamed (history, attention map, "").

    Args:
        engine: the engine that answers.

    Returns:
        A generator function of the tab's inputs, guarded by `handlers.guarded`.
    """

    def chat(message: str, history: list, persona: str, decoding: str, beam_width: float,
             length_penalty: float, temperature: float, top_k: float, top_p: float, seed: float):
        request = ChatRequest(message=message, history=tuple(history or ()), persona=persona, decoding=decoding,
                              beam_width=beam_width, length_penalty=length_penalty, temperature=temperature,
                              top_k=top_k, top_p=top_p, seed=seed)
        with shown_to_user():
            replies = engine.chat(request)
            reply = next(replies)
        history = list(history or ()) + [{"role": "user", "content": message}]
        for reply in itertools.chain([reply], replies):  # greedy and sampled replies stream
            for note in reply.notes:
                gr.Warning(note)
            yield history + [{"role": "assistant", "content": reply.text}], attention_html(reply), ""

    return guarded(chat)


def build(engine: Engine) -> None:
    """The tab's content: the chat and its message box, persona and decoding on the right, the attention map below."""
    gr.Markdown(HELP)
    with gr.Row():
        with gr.Column(scale=3):
            chatbot = _chatbot(label="Chat", height=360, elem_id="chat")
            with gr.Row():
                message = gr.Textbox(label="Message", placeholder="Say something…", scale=4,
                                     max_length=LIMITS.max_message_chars, elem_id="message")
                send = gr.Button("Send", variant="primary", scale=1, elem_id="send")
            gr.Examples(EXAMPLES, inputs=[message])
        with gr.Column(scale=2):
            persona = gr.Radio(PERSONA_CHOICES, value=ChatRequest.persona, label="Persona")
            with gr.Accordion("Decoding", open=False):
                settings = _decoding_settings()
            clear = gr.Button("Clear chat")
    attention = gr.HTML(EMPTY_ATTENTION, elem_id="attention")
    inputs, outputs = [message, chatbot, persona, *settings], [chatbot, attention, message]
    chat = make_chat(engine)
    send.click(chat, inputs, outputs, api_name="chat", concurrency_id="cpu", **RAW_VALUES)
    message.submit(chat, inputs, outputs, api_name=False, concurrency_id="cpu", **RAW_VALUES)
    clear.click(lambda: ([], EMPTY_ATTENTION), None, [chatbot, attention], api_name=False)


def _decoding_settings() -> list:
    """Decoding controls, starting at `ChatRequest`'s defaults, in the handler's argument order."""
    defaults = ChatRequest
    return [
        gr.Radio(list(DECODINGS), value=defaults.decoding, label="Method"),
        gr.Slider(1, LIMITS.max_beam_width, value=defaults.beam_width, step=1, label="Beam width"),
        gr.Slider(0, LIMITS.max_length_penalty, value=defaults.length_penalty, step=LENGTH_PENALTY_STEP,
                  label="Length penalty (beam)"),
        controls.temperature(defaults.temperature, label="Temperature (sample)"),
        controls.top_k(defaults.top_k, label="Top-k (sample, 0 = off)"),
        controls.top_p(defaults.top_p, label="Top-p (sample)"),
        controls.seed(defaults.seed),
    ]
