"""The Gradio page: Shakespeare (GRU/LSTM language model), Chatbot and Fill the blank (seq2seq) tabs."""
from __future__ import annotations

import functools
import html
import inspect
import itertools
import logging
import time
from contextlib import closing, contextmanager

import gradio as gr
import pydantic
from gradio.components.chatbot import ChatbotDataMessages

from ..checkpoints import CheckpointError
from ..config import LIMITS, InputError
from ..decoding import StopReason
from ..models import registry
from ..serving.engine import (DECODINGS, ChatReply, ChatRequest, Engine, FillRequest,
                      GenerationRequest)

log = logging.getLogger(__name__)

STREAM_INTERVAL_S = 0.05  # at most ~20 screen updates a second, however fast tokens come
QUEUE_SIZE = 32
CONCURRENCY = 2  # two CPU cores
MAX_UPLOAD_BYTES = 0  # the page has no file inputs, so every upload is refused (413)
MODEL_CHOICES = [("GRU", "shakespeare-gru"), ("LSTM", "shakespeare-lstm")]
EXAMPLES = [
    ["ROMEO:\n"],
    ["JULIET:\nO Romeo, Romeo!"],
    ["KING HENRY V:\nOnce more unto the breach,"],
    ["HAMLET:\nTo be, or not to be:"],
    ["First Citizen:\nBefore we proceed any further, hear me speak."],
]
INTRO = """# RNN Playground
Recurrent neural networks writing text, on a CPU: a GRU or LSTM language model continues a
Shakespeare scene, a GRU encoder-decoder with attention chats, and its sibling fills in the
blank of a sentence. Every random choice takes a seed: the same seed and settings give the same text."""
SHAKESPEARE_HELP = """Type the start of a scene — a speaker's name, a colon, a new line — and watch a
2-layer language model continue it one sub-word token at a time. Temperature 0 always picks
the likeliest token; higher values take more risks. On the right: what the model thought of
the last token it chose."""
STATUS_WORDS = {"ready": "ready", "loading": "loading…"}
TAB_MODELS = {tab: registry.names(tab=tab) for tab in ("shakespeare", "chatbot", "fill")}


# The API events run with preprocess=False: the engine checks every raw value and names the
# argument, where the components' own checks would say only "Value 9 is greater than maximum
# value 2" or round a seed of 2.5 to 2 without a word. The browser still enforces each range.
RAW_VALUES = dict(preprocess=False)
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


def status_markdown(engine: Engine) -> str:
    """One line per model: ready, loading, or what is wrong and how to fix it."""
    return "  \n".join(f"**{name}**: {STATUS_WORDS.get(state, '⚠ ' + state)}"
                        for name, state in engine.status().items())


def tab_notices(engine: Engine) -> dict[str, str]:
    """For each tab, what keeps its models from working and how to fix it ("" when nothing does)."""
    status = engine.status()
    return {tab: "  \n".join(f"⚠ **{name}** cannot be used: {status[name]}"
                             for name in names if status[name] not in STATUS_WORDS)
            for tab, names in TAB_MODELS.items()}


def _notice(engine: Engine, tab: str) -> gr.Markdown:
    """The box at the top of a tab that says what is wrong with its models; hidden while all is well."""
    text = tab_notices(engine)[tab]
    return gr.Markdown(text, visible=bool(text), elem_id=f"{tab}-notice", elem_classes="model-notice")


def _refresh_notices(engine: Engine) -> list:
    """The models' status line and every tab's notice, as they are now."""
    notices = tab_notices(engine)
    return [status_markdown(engine), *(gr.Markdown(notices[tab], visible=bool(notices[tab])) for tab in TAB_MODELS)]


def _user_error(error: Exception) -> gr.Error:
    return gr.Error(str(error), print_exception=False)


INTERNAL_ERROR = "Something went wrong inside the server (it has been logged). Please try again."


@contextmanager
def _internal_errors_reported(name: str):
    """Logs an unexpected exception with its traceback and replaces it with INTERNAL_ERROR for the
    user: its text may show paths or internals, and without a message of ours Gradio shows a bare
    "Error". Our own messages (gr.Error) pass as they are."""
    try:
        yield
    except gr.Error:
        raise
    except Exception as error:  # not hidden: logged in full here
        log.exception("%s failed", name)
        raise gr.Error(INTERNAL_ERROR, print_exception=False) from error


def _guarded(handler):
    """`handler` (a function or a generator function) under `_internal_errors_reported`."""
    if inspect.isgeneratorfunction(handler):
        @functools.wraps(handler)
        def guarded_stream(*args):
            with _internal_errors_reported(handler.__name__):
                yield from handler(*args)
        return guarded_stream

    @functools.wraps(handler)
    def guarded(*args):
        with _internal_errors_reported(handler.__name__):
            return handler(*args)
    return guarded


def make_generate(engine: Engine):
    """The `/generate` handler: validates, then streams (text, next-token probabilities)."""

    def generate(prompt: str, model: str, max_tokens: float, temperature: float, top_k: float,
                 top_p: float, repetition_penalty: float, seed: float):
        request = GenerationRequest(prompt=prompt, model=model, max_tokens=max_tokens,
                                    temperature=temperature, top_k=top_k, top_p=top_p,
                                    repetition_penalty=repetition_penalty, seed=seed)
        try:
            request = engine.validate_generation(request)
            engine.language_model(request.model)
        except (InputError, CheckpointError, FileNotFoundError) as error:
            raise _user_error(error) from None
        last_shown, chunk, stop = 0.0, None, StopReason()
        # closing: when Gradio closes this generator (the client cancelled or left), the engine's
        # stream is closed at once, between two tokens, instead of whenever it is garbage-collected.
        with closing(engine.stream(request, stop=stop)) as chunks:
            for chunk in chunks:
                now = time.monotonic()
                if now - last_shown >= STREAM_INTERVAL_S:
                    last_shown = now
                    yield chunk.text, engine.top_probabilities(chunk.logits)
        if stop.reason == "deadline":
            gr.Warning(f"Stopped at the time limit ({engine.limits.deadline_s:g} s) after "
                       f"{chunk.tokens if chunk else 0} tokens.")
        if chunk is not None:
            yield chunk.text, engine.top_probabilities(chunk.logits)

    return _guarded(generate)


def _shakespeare_tab(engine: Engine) -> gr.Markdown:
    with gr.Tab("Shakespeare", id="shakespeare"):
        notice = _notice(engine, "shakespeare")
        gr.Markdown(SHAKESPEARE_HELP)
        with gr.Row():
            with gr.Column(scale=3):
                prompt = gr.Textbox(label="Prompt", value="ROMEO:\n", lines=4,
                                    max_length=LIMITS.max_prompt_chars, elem_id="prompt")
                with gr.Row():
                    go = gr.Button("Generate", variant="primary", elem_id="generate")
                    stop = gr.Button("Stop", variant="stop", elem_id="stop")
                output = gr.Textbox(label="Text", lines=16, interactive=False, elem_id="output",
                                    buttons=["copy"])
            with gr.Column(scale=2):
                model = gr.Radio(MODEL_CHOICES, value="shakespeare-gru", label="Model", elem_id="model")
                max_tokens = gr.Slider(1, LIMITS.max_new_tokens, value=LIMITS.default_new_tokens, step=1,
                                       label="Max tokens")
                temperature = gr.Slider(0, 2, value=0.8, step=0.05, label="Temperature (0 = greedy)")
                top_k = gr.Slider(0, 200, value=0, step=1, label="Top-k (0 = off)")
                top_p = gr.Slider(LIMITS.min_top_p, 1, value=1.0, step=0.01, label="Top-p (1 = off)")
                penalty = gr.Slider(1, 2, value=1.0, step=0.05, label="Repetition penalty (1 = off)")
                seed = gr.Number(value=0, precision=0, minimum=0, maximum=LIMITS.max_seed, label="Seed")
                probabilities = gr.Label(label="Next-token probabilities (last step)", num_top_classes=5,
                                         elem_id="probabilities")
        gr.Examples(EXAMPLES, inputs=[prompt])
        inputs = [prompt, model, max_tokens, temperature, top_k, top_p, penalty, seed]
        event = go.click(make_generate(engine), inputs, [output, probabilities], api_name="generate",
                         concurrency_id="cpu", **RAW_VALUES)
        stop.click(None, None, None, cancels=[event], api_name=False)
    return notice


CHAT_EXAMPLES = ["Hello!", "What is the capital of Japan?", "Which currency do they use in Mexico?",
                 "What countries border Germany?", "Do you like music?", "Tell me a joke."]
PERSONA_CHOICES = [("Modern", "modern"), ("Shakespearean", "shakespeare")]
MAX_HEATMAP_COLUMNS = 64


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


def make_chat(engine: Engine):
    """The `/chat` handler: (message, history, settings) → streamed (history, attention map, "")."""

    def chat(message: str, history: list, persona: str, decoding: str, beam_width: float,
             length_penalty: float, temperature: float, top_k: float, top_p: float, seed: float):
        request = ChatRequest(message=message, history=tuple(history or ()), persona=persona, decoding=decoding,
                              beam_width=beam_width, length_penalty=length_penalty, temperature=temperature,
                              top_k=top_k, top_p=top_p, seed=seed)
        try:
            replies = engine.chat(request)
            reply = next(replies)
        except (InputError, CheckpointError, FileNotFoundError) as error:
            raise _user_error(error) from None
        history = list(history or ()) + [{"role": "user", "content": message}]
        for reply in itertools.chain([reply], replies):  # greedy and sampled replies stream
            for note in reply.notes:
                gr.Warning(note)
            yield history + [{"role": "assistant", "content": reply.text}], attention_html(reply), ""

    return _guarded(chat)


def _chat_tab(engine: Engine) -> gr.Markdown:
    with gr.Tab("Chatbot", id="chatbot"):
        notice = _notice(engine, "chatbot")
        gr.Markdown("A GRU encoder-decoder with additive attention. It reads your message and the last two "
                    "turns, and writes a reply; the map below shows where it looked for each word.")
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = _chatbot(label="Chat", height=360, elem_id="chat")
                with gr.Row():
                    message = gr.Textbox(label="Message", placeholder="Say something…", scale=4,
                                         max_length=LIMITS.max_message_chars, elem_id="message")
                    send = gr.Button("Send", variant="primary", scale=1, elem_id="send")
                gr.Examples(CHAT_EXAMPLES, inputs=[message])
            with gr.Column(scale=2):
                persona = gr.Radio(PERSONA_CHOICES, value="modern", label="Persona")
                with gr.Accordion("Decoding", open=False):
                    decoding = gr.Radio(list(DECODINGS), value="beam", label="Method")
                    beam_width = gr.Slider(1, LIMITS.max_beam_width, value=4, step=1, label="Beam width")
                    length_penalty = gr.Slider(0, LIMITS.max_length_penalty, value=0.6, step=0.1,
                                               label="Length penalty (beam)")
                    temperature = gr.Slider(0, 2, value=0.8, step=0.05, label="Temperature (sample)")
                    top_k = gr.Slider(0, 200, value=0, step=1, label="Top-k (sample, 0 = off)")
                    top_p = gr.Slider(LIMITS.min_top_p, 1, value=1.0, step=0.01, label="Top-p (sample)")
                    seed = gr.Number(value=0, precision=0, minimum=0, maximum=LIMITS.max_seed, label="Seed")
                clear = gr.Button("Clear chat")
        attention = gr.HTML(attention_html(ChatReply("", True)), elem_id="attention")
        inputs = [message, chatbot, persona, decoding, beam_width, length_penalty, temperature, top_k, top_p, seed]
        outputs = [chatbot, attention, message]
        send.click(make_chat(engine), inputs, outputs, api_name="chat", concurrency_id="cpu", **RAW_VALUES)
        message.submit(make_chat(engine), inputs, outputs, api_name=False, concurrency_id="cpu", **RAW_VALUES)
        clear.click(lambda: ([], attention_html(ChatReply("", True))), None, [chatbot, attention], api_name=False)
    return notice


FILL_EXAMPLES = ["Paris is the capital of ___.", "The capital of Japan is ___.", "To be, or not to ___.",
                 "O Romeo, Romeo! wherefore art thou [MASK]?", "People from Brazil speak ___.",
                 "I like to ___ in the morning."]


def make_fill(engine: Engine):
    """The `/fill` handler: (sentence, top-k) → (candidates with probabilities, completed sentence, note)."""

    def fill(sentence: str, top_k: float):
        try:
            result = engine.fill(FillRequest(sentence, top_k))
        except (InputError, CheckpointError, FileNotFoundError) as error:
            raise _user_error(error) from None
        if not result.candidates:
            return {}, [(sentence, None)], "  \n".join(["The model found no filler for this gap.", *result.notes])
        best = result.candidates[0][0]
        who = "The model and the memory of the plays give" if result.quoted else "The model gives"
        note = (f"Not sure: {who[0].lower() + who[1:]} its best filler only {result.best_model_probability:.0%}."
                if result.not_sure else f"{who} its best filler {result.best_model_probability:.0%}.")
        note = "  \n".join([note, *_quotation_lines(result), *(f"⚠ {text}" for text in result.notes)])
        completed = [(result.left, None), (best, "filler"), (result.right, None)]
        return dict(result.candidates), completed, note

    return _guarded(fill)


def _quotation_lines(result) -> list[str]:
    """What the memory of the plays added: each quoted filler, its play, and the RNN's own probability."""
    return [f"📜 “{text}” is what *{play.replace('-', ' ').title()}* has between these words "
            f"({result.matched_words} neighbouring words matched); the RNN alone gives it {result.model_only[text]:.1%}."
            for text, play in result.quoted.items()]


def _fill_tab(engine: Engine) -> gr.Markdown:
    with gr.Tab("Fill the blank", id="fill"):
        notice = _notice(engine, "fill")
        gr.Markdown("Write a sentence with one gap, `___` (two or more underscores) or `[MASK]`. An "
                    "encoder-decoder of the chatbot's family writes the missing words; beam search ranks them. "
                    "When the words around the gap (four or more, and most of those typed) match a passage of "
                    "the training plays, the words the play has there are mixed in (📜 in the note), weighted "
                    "by how many words matched.")
        with gr.Row():
            with gr.Column(scale=3):
                sentence = gr.Textbox(label="Sentence", value="Paris is the capital of ___.",
                                      max_length=LIMITS.max_sentence_chars, elem_id="sentence")
                top_k = gr.Slider(1, LIMITS.max_fill_candidates, value=5, step=1, label="Candidates")
                go = gr.Button("Fill", variant="primary", elem_id="fill-button")
                gr.Examples(FILL_EXAMPLES, inputs=[sentence])
            with gr.Column(scale=2):
                candidates = gr.Label(label="Fillers (probability among those shown)", elem_id="candidates")
                completed = gr.HighlightedText(label="Completed sentence", color_map={"filler": "orange"},
                                               elem_id="completed")
                note = gr.Markdown(elem_id="fill-note")
        go.click(make_fill(engine), [sentence, top_k], [candidates, completed, note], api_name="fill",
                 concurrency_id="cpu", **RAW_VALUES)
        sentence.submit(make_fill(engine), [sentence, top_k], [candidates, completed, note], api_name=False,
                        concurrency_id="cpu", **RAW_VALUES)
    return notice


def build_demo(engine: Engine, *, queue_size: int = QUEUE_SIZE) -> gr.Blocks:
    """The whole page, behind a queue of `queue_size` waiting requests."""
    with gr.Blocks(title="RNN Playground") as demo:
        gr.Markdown(INTRO)
        with gr.Accordion("Models", open=False):
            status = gr.Markdown(status_markdown(engine), elem_id="status")
        with gr.Tabs():
            notices = [_shakespeare_tab(engine), _chat_tab(engine), _fill_tab(engine)]
        # Each page load says again what is wrong with which model (the warm-up may have found out since).
        demo.load(lambda: _refresh_notices(engine), None, [status, *notices], api_name=False)
    return configure_queue(demo, queue_size=queue_size)


def configure_queue(demo: gr.Blocks, *, queue_size: int = QUEUE_SIZE) -> gr.Blocks:
    """A bounded queue in front of every event, REST callers included; two jobs at a time."""
    return demo.queue(max_size=queue_size, api_open=False, default_concurrency_limit=CONCURRENCY)


def launch_options() -> dict:
    """Safe serving defaults shared by app.py and the tests."""
    return dict(max_file_size=MAX_UPLOAD_BYTES, enable_monitoring=False, show_error=False,
                footer_links=["api"], theme=gr.themes.Soft(), css=CSS)


CSS = """
.attention { overflow-x: auto; }
.attention table { border-collapse: collapse; font-size: 12px; }
.attention td { width: 18px; height: 18px; border: 1px solid #eee; }
.attention th { font-weight: normal; padding: 0 4px; white-space: pre; }
.attention tr:first-child th { writing-mode: vertical-rl; transform: rotate(180deg); }
"""
