"""The Gradio page: Shakespeare (GRU/LSTM language model), Chatbot and Fill the blank (seq2seq) tabs."""
from __future__ import annotations

import html
import logging
import time

import gradio as gr

from .checkpoints import CheckpointError
from .config import LIMITS, InputError
from .engines import DECODINGS, ChatReply, ChatRequest, Engine, GenerationRequest

log = logging.getLogger(__name__)

STREAM_INTERVAL_S = 0.05  # at most ~20 screen updates a second, however fast tokens come
QUEUE_SIZE = 32
CONCURRENCY = 2  # two CPU cores
MAX_UPLOAD = "1mb"
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


def status_markdown(engine: Engine) -> str:
    """One line per model: ready, loading, or what is wrong and how to fix it."""
    return "  \n".join(f"**{name}**: {STATUS_WORDS.get(state, '⚠ ' + state)}"
                        for name, state in engine.status().items())


def _user_error(error: Exception) -> gr.Error:
    return gr.Error(str(error), print_exception=False)


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
        last_shown, chunk = 0.0, None
        for chunk in engine.stream(request):
            now = time.monotonic()
            if now - last_shown >= STREAM_INTERVAL_S:
                last_shown = now
                yield chunk.text, engine.top_probabilities(chunk.logits)
        if chunk is not None:
            yield chunk.text, engine.top_probabilities(chunk.logits)

    return generate


def _shakespeare_tab(engine: Engine) -> None:
    with gr.Tab("Shakespeare", id="shakespeare"):
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
                         concurrency_id="cpu")
        stop.click(None, None, None, cancels=[event], api_name=False)


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
    return (f'<div class="attention"><p>Attention while writing the reply (darker = more weight; each row '
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
        for reply in [reply, *replies]:
            yield history + [{"role": "assistant", "content": reply.text}], attention_html(reply), ""

    return chat


def _chat_tab(engine: Engine) -> None:
    with gr.Tab("Chatbot", id="chatbot"):
        gr.Markdown("A GRU encoder-decoder with additive attention. It reads your message and the last two "
                    "turns, and writes a reply; the map below shows where it looked for each word.")
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label="Chat", height=360, elem_id="chat")
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
        send.click(make_chat(engine), inputs, outputs, api_name="chat", concurrency_id="cpu")
        message.submit(make_chat(engine), inputs, outputs, api_name=False, concurrency_id="cpu")
        clear.click(lambda: ([], attention_html(ChatReply("", True))), None, [chatbot, attention], api_name=False)


FILL_EXAMPLES = ["Paris is the capital of ___.", "The capital of Japan is ___.", "To be, or not to ___.",
                 "O Romeo, Romeo! wherefore art thou [MASK]?", "People from Brazil speak ___.",
                 "I like to ___ in the morning."]


def make_fill(engine: Engine):
    """The `/fill` handler: (sentence, top-k) → (candidates with probabilities, completed sentence, note)."""

    def fill(sentence: str, top_k: float):
        try:
            result = engine.fill(sentence, top_k)
        except (InputError, CheckpointError, FileNotFoundError) as error:
            raise _user_error(error) from None
        if not result.candidates:
            return {}, [(sentence, None)], "The model found no filler for this gap."
        best = result.candidates[0][0]
        note = (f"Not sure: the model gives its best filler only {result.best_model_probability:.0%}."
                if result.not_sure else f"The model gives its best filler {result.best_model_probability:.0%}.")
        completed = [(result.left, None), (best, "filler"), (result.right, None)]
        return dict(result.candidates), completed, note

    return fill


def _fill_tab(engine: Engine) -> None:
    with gr.Tab("Fill the blank", id="fill"):
        gr.Markdown("Write a sentence with one gap, `___` (two or more underscores) or `[MASK]`. An "
                    "encoder-decoder of the chatbot's family writes the missing words; beam search ranks them.")
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
                 concurrency_id="cpu")
        sentence.submit(make_fill(engine), [sentence, top_k], [candidates, completed, note], api_name=False,
                        concurrency_id="cpu")


def build_demo(engine: Engine) -> gr.Blocks:
    """The whole page. Call `configure_queue` on it before launching."""
    with gr.Blocks(title="RNN Playground") as demo:
        gr.Markdown(INTRO)
        with gr.Accordion("Models", open=False):
            status = gr.Markdown(status_markdown(engine), elem_id="status")
        demo.load(lambda: status_markdown(engine), None, status, api_name=False)
        with gr.Tabs():
            _shakespeare_tab(engine)
            _chat_tab(engine)
            _fill_tab(engine)
    return configure_queue(demo)


def configure_queue(demo: gr.Blocks) -> gr.Blocks:
    """A bounded queue in front of every event, REST callers included; two jobs at a time."""
    return demo.queue(max_size=QUEUE_SIZE, api_open=False, default_concurrency_limit=CONCURRENCY)


def launch_options() -> dict:
    """Safe serving defaults shared by app.py and the tests."""
    return dict(max_file_size=MAX_UPLOAD, enable_monitoring=False, show_error=False,
                footer_links=["api"], theme=gr.themes.Soft(), css=CSS)


CSS = """
.attention { overflow-x: auto; }
.attention table { border-collapse: collapse; font-size: 12px; }
.attention td { width: 18px; height: 18px; border: 1px solid #eee; }
.attention th { font-weight: normal; padding: 0 4px; white-space: pre; }
.attention tr:first-child th { writing-mode: vertical-rl; transform: rotate(180deg); }
"""
