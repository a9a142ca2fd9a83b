"""The Chatbot tab: a GRU encoder-decoder with attention answers, and shows where it looked (`/chat`)."""
from __future__ import annotations

import html
import itertools

import gradio as gr
import pydantic
from gradio.components.chatbot import ChatbotDataMessages

from ...config import LIMITS
from ...serving import DECODINGS, ChatReply, ChatRequest, Engine
from .. import controls, glass
from ..handlers import RAW_VALUES, guarded, shown_to_user
from ..language import of as language_of
from ..text import ENGLISH, say, t, token_label, translated

TAB_ID = "chatbot"
LABEL = "chatbot.tab"
POSITION = 2

EXAMPLES = ["Hello!", "What is the capital of Japan?", "Which currency do they use in Mexico?",
            "What countries border Germany?", "Do you like music?", "Tell me a joke."]
PERSONA_CHOICES = [(t("chatbot.persona_modern"), "modern"), (t("chatbot.persona_shakespeare"), "shakespeare")]
DECODING_CHOICES = [(t(f"chatbot.method_{decoding}"), decoding) for decoding in DECODINGS]
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


def attention_html(reply: ChatReply, language: str = ENGLISH) -> str:
    """The attention of the last reply as a heatmap table, reply tokens (rows) × input tokens, in `language`.

    Each cell's weight is its `--weight`, which the page's CSS turns into a colour that reads in light
    and in dark mode."""
    if reply.attention is None or not len(reply.reply_pieces):
        return f"<p>{html.escape(say('chatbot.attention_empty', language))}</p>"

    def label(piece: str) -> str:
        return html.escape(token_label(piece, language))

    header = "".join(f"<th>{label(piece)}</th>" for piece in reply.source_pieces[:MAX_HEATMAP_COLUMNS])
    rows = []
    for piece, weights in zip(reply.reply_pieces, reply.attention):
        cells = "".join(f'<td title="{w:.2f}" style="--weight: {min(1.0, float(w)):.2f}"></td>'
                        for w in weights[:MAX_HEATMAP_COLUMNS])
        rows.append(f"<tr><th>{label(piece)}</th>{cells}</tr>")
    candidates = "".join(f"<li>{html.escape(text) or say('chatbot.empty_reply', language)} "
                         f"<small>(log p = {log_p:.2f})</small></li>" for text, log_p in reply.candidates)
    listing = f"<p>{say('chatbot.n_best', language)}</p><ol>{candidates}</ol>" if candidates else ""
    notes = "".join(f'<p class="note">⚠ {html.escape(translated(note, language))}</p>' for note in reply.notes)
    return (f'<div class="attention">{notes}<p>{html.escape(say("chatbot.attention_caption", language))}</p>'
            f'<table><tr><th></th>{header}</tr>{"".join(rows)}</table>{listing}</div>')


def cleared(visitor: gr.Request) -> tuple[list, str]:
    """An empty chat, and the attention map's place holder in the visitor's language."""
    return [], attention_html(ChatReply("", True), language_of(visitor))


def switched(visitor: gr.Request) -> tuple[list, str]:
    """`cleared`, with a note saying why: a persona switch starts a new conversation in the new voice."""
    gr.Info(say("chatbot.persona_switched", language_of(visitor)))
    return cleared(visitor)


def make_chat(engine: Engine):
    """The `/chat` handler: (message, history, settings) → streamed (history, attention map, "").

    Args:
        engine: the engine that answers.

    Returns:
        A generator function of the tab's inputs, guarded by `handlers.guarded`.
    """

    def chat(message: str, history: list, persona: str, decoding: str, beam_width: float,
             length_penalty: float, temperature: float, top_k: float, top_p: float, seed: float,
             visitor: gr.Request | None = None):
        """Replies to a message with a small GRU encoder-decoder chatbot (with attention), in a modern or a
        Shakespearean voice. It handles greetings, small talk, questions about itself, jokes and simple facts
        (capitals of countries, elements, planets, authors); it is a teaching model, not a source of truth.

        Args:
            message: the visitor's message (1 to 1,000 characters, English).
            history: the turns so far, [{"role": "user" or "assistant", "content": text}, ...]; [] to begin.
            persona: "modern" or "shakespeare".
            decoding: "beam" (most likely reply), "greedy" or "sample".
            beam_width: beams for "beam" decoding (1 to 8; 4 is usual).
            length_penalty: for "beam": 0 to 2; higher favours longer replies.
            temperature: for "sample": 0.01 to 5.
            top_k: for "sample": only the k most likely tokens (0 = no limit).
            top_p: for "sample": only the most likely tokens up to this total probability (1 = no limit).
            seed: the random seed for "sample" (0 to 4294967295).

        Returns:
            The conversation with the reply appended, the attention map as HTML, and an empty message box.
        """
        language = language_of(visitor)
        request = ChatRequest(message=message, history=tuple(history or ()), persona=persona, decoding=decoding,
                              beam_width=beam_width, length_penalty=length_penalty, temperature=temperature,
                              top_k=top_k, top_p=top_p, seed=seed)
        with shown_to_user(language):
            replies = engine.chat(request)
            reply = next(replies)
        history = list(history or ()) + [{"role": "user", "content": message}]
        for reply in itertools.chain([reply], replies):
            if not reply.done:  # a streamed reply's text: shown below, row by row with its attention
                continue
            for note in reply.notes:
                gr.Warning(translated(note, language))
            for written in glass.growing(reply):  # the map grows a row for each piece of the reply
                yield (history + [{"role": "assistant", "content": written.text}], attention_html(written, language),
                       "")

    return guarded(chat)


def build(engine: Engine) -> None:
    """The tab's content: the chat and its message box, persona and decoding beside it (below it on a
    phone), the attention map under the chat."""
    gr.Markdown(t("chatbot.help"))
    with gr.Row():
        with gr.Column(scale=3):
            chatbot = _chatbot(label=t("chatbot.chat"), height=360, elem_id="chat")
            with gr.Row():
                message = gr.Textbox(label=t("chatbot.message"), placeholder=t("chatbot.placeholder"), scale=4,
                                     max_length=LIMITS.max_message_chars, elem_id="message")
                send = gr.Button(t("chatbot.send"), variant="primary", scale=1, elem_id="send")
            gr.Examples(EXAMPLES, inputs=[message], label=t("page.examples"))
        with gr.Column(scale=2):
            persona = gr.Radio(PERSONA_CHOICES, value=ChatRequest.persona, label=t("chatbot.persona"))
            with gr.Accordion(t("chatbot.decoding"), open=False):
                settings = _decoding_settings()
            clear = gr.Button(t("chatbot.clear"))
    attention = gr.HTML(t("chatbot.attention_empty"), elem_id="attention")
    inputs, outputs = [message, chatbot, persona, *settings], [chatbot, attention, message]
    chat = make_chat(engine)
    send.click(chat, inputs, outputs, api_name="chat", concurrency_id="cpu", **RAW_VALUES)
    message.submit(chat, inputs, outputs, api_name=False, concurrency_id="cpu", **RAW_VALUES)
    clear.click(cleared, None, [chatbot, attention], api_name=False)
    persona.input(switched, None, [chatbot, attention], api_name=False)  # the visitor's switch, not a set value


def _decoding_settings() -> list:
    """Decoding controls, starting at `ChatRequest`'s defaults, in the handler's argument order."""
    defaults = ChatRequest
    return [
        gr.Radio(DECODING_CHOICES, value=defaults.decoding, label=t("chatbot.method")),
        gr.Slider(1, LIMITS.max_beam_width, value=defaults.beam_width, step=1, label=t("chatbot.beam_width")),
        gr.Slider(0, LIMITS.max_length_penalty, value=defaults.length_penalty, step=LENGTH_PENALTY_STEP,
                  label=t("chatbot.length_penalty")),
        controls.temperature(defaults.temperature, label=t("chatbot.temperature")),
        controls.top_k(defaults.top_k, label=t("chatbot.top_k")),
        controls.top_p(defaults.top_p, label=t("chatbot.top_p")),
        controls.seed(defaults.seed),
    ]
