"""Edge input, through the engine and the served API: numbers too large for a float, lone surrogates,
temperatures too small for the sampler, damaged assets' messages, and the models' symbols typed as text."""
import dataclasses
import json
import re

import httpx
import pytest
import sentencepiece as spm
from gradio_client import Client
from gradio_client.exceptions import AppError

from rnn_demo.checkpoints import WEIGHTS_FILE, CheckpointError
from rnn_demo.config import LIMITS, PERSONA_MODERN, SEP, InputError
from rnn_demo.serving import ChatRequest, Engine, FillRequest, GenerationRequest
from rnn_demo.tokenizer import MARKUP_SYMBOLS, sha256_file
from rnn_demo.ui import notices

HTTP_TIMEOUT_S = 30
PROMPT = "ROMEO:\n"
SENTENCE = "Paris is the capital of ___."
HUGE = {"10^400": 10**400, "-10^400": -10**400, "1e308 * 10": 1e308 * 10}
# request: {field: how messages name it}, for every number field of every endpoint
NUMBER_FIELDS = {
    GenerationRequest: {"max_tokens": "max tokens", "temperature": "temperature", "top_k": "top-k",
                        "top_p": "top-p", "repetition_penalty": "repetition penalty", "seed": "seed"},
    ChatRequest: {"beam_width": "beam width", "length_penalty": "length penalty", "temperature": "temperature",
                  "top_k": "top-k", "top_p": "top-p", "seed": "seed"},
    FillRequest: {"top_k": "top-k"},
}
NUMBER_CASES = [(kind, field, name) for kind, fields in NUMBER_FIELDS.items() for field, name in fields.items()]
SHORT_MESSAGE = 120  # characters: a refusal names the field and its range, not 401 digits
SURROGATE_TEXTS = {"alone": "\ud800", "inside text": "hello \udfff world", "after an emoji": "🎭\ud83d"}
TINY_TEMPERATURES = [1e-3, 1e-10, 1e-38, 1e-45, 5e-324]
# The API's argument order, after each endpoint's text (and the chat's history).
GENERATE_ARGS = ["shakespeare-gru", 12, 0.0, 0, 1.0, 1.0, 0]
CHAT_ARGS = ["modern", "greedy", 4, 0.6, 0.8, 0, 1.0, 0]


@pytest.fixture(scope="module")
def engine(quick_assets):
    return Engine(quick_assets)


@pytest.fixture(scope="module")
def served(engine, serve_app):
    with serve_app(engine) as demo:
        yield demo


def serve(engine, request):
    """The engine's answer to any request, the way each endpoint is served (a chat's last reply)."""
    if isinstance(request, GenerationRequest):
        return engine.generate(request)
    if isinstance(request, ChatRequest):
        return list(engine.chat(request))[-1]
    return engine.fill(request)


def request_of(kind, **fields):
    texts = {GenerationRequest: dict(prompt=PROMPT), ChatRequest: dict(message="Hello"),
             FillRequest: dict(sentence=SENTENCE)}
    return kind(**{**texts[kind], **fields})


def api_events(demo, endpoint: str, data: list) -> str:
    """The server-sent events of one raw REST call; `json.dumps` writes a lone surrogate as `\\ud800`."""
    base = demo.local_url.rstrip("/")
    queued = httpx.post(f"{base}/gradio_api/call/{endpoint}", content=json.dumps({"data": data}),
                        headers={"content-type": "application/json"}, timeout=HTTP_TIMEOUT_S)
    assert queued.status_code == 200, queued.text
    return httpx.get(f"{base}/gradio_api/call/{endpoint}/{queued.json()['event_id']}", timeout=HTTP_TIMEOUT_S).text


# --- numbers too large for a float ----------------------------------------------------------------


@pytest.mark.parametrize("value", HUGE.values(), ids=HUGE.keys())
@pytest.mark.parametrize("kind, field, name", NUMBER_CASES,
                         ids=[f"{kind.__name__}.{field}" for kind, field, _ in NUMBER_CASES])
def test_a_huge_number_in_any_field_gets_the_range_message(engine, kind, field, name, value):
    with pytest.raises(InputError, match=f"^{name} must be between .+, not ") as refused:
        serve(engine, request_of(kind, **{field: value}))
    message = str(refused.value)
    assert len(message) < SHORT_MESSAGE and ("1e+400" in message or message.endswith("not inf"))


def test_a_huge_number_reaches_an_api_caller_as_the_range_message(served):
    client = Client(served.local_url, verbose=False)
    with pytest.raises(AppError, match="temperature must be between 0 and 5, not about 1e\\+400"):
        client.predict(PROMPT, "shakespeare-gru", 12, 10**400, 0, 1.0, 1.0, 0, api_name="/generate")
    with pytest.raises(AppError, match="beam width must be between 1 and 8, not about -1e\\+400"):
        client.predict("Hello", [], "modern", "beam", -10**400, 0.6, 0.8, 0, 1.0, 0, api_name="/chat")
    # JSON's 1e309 is read as infinity
    events = api_events(served, "fill", [SENTENCE, 1e308 * 10])
    assert "event: error" in events and "top-k must be between 1 and 10, not inf" in events
    assert client.predict(SENTENCE, 3, api_name="/fill")[0]["confidences"]


# --- lone surrogates ------------------------------------------------------------------------------


def said(text: str, role: str = "user") -> dict:
    return {"role": role, "content": [{"type": "text", "text": text}]}


@pytest.mark.parametrize("text", SURROGATE_TEXTS.values(), ids=SURROGATE_TEXTS.keys())
@pytest.mark.parametrize("where", ["prompt", "message", "history", "sentence"])
def test_a_lone_surrogate_in_any_text_gets_a_named_message(engine, where, text):
    requests = {
        "prompt": GenerationRequest(prompt=text),
        "message": ChatRequest(message=text),
        "history": ChatRequest(message="Hello", history=(said("Hi"), said(text, "assistant"))),
        "sentence": FillRequest(sentence=f"{text} is the capital of ___."),
    }
    names = {"prompt": "prompt", "message": "message", "history": "history message 2", "sentence": "sentence"}
    code = next(f"U+{ord(char):04X}" for char in text if 0xD800 <= ord(char) <= 0xDFFF)
    expected = f"{names[where]} contains an unpaired surrogate ({code}); remove it"
    with pytest.raises(InputError, match=f"^{re.escape(expected)}$"):
        serve(engine, requests[where])


@pytest.mark.parametrize("endpoint, data, name", [
    ("generate", ["hello \ud800 world", *GENERATE_ARGS], "prompt"),
    ("chat", ["hello \ud800", [], *CHAT_ARGS], "message"),
    ("chat", ["Hello", [said("Hi"), said("x\ud800", "assistant")], *CHAT_ARGS], "history message 2"),
    ("fill", ["\ud800 is the capital of ___.", 3], "sentence"),
])
def test_a_lone_surrogate_reaches_an_api_caller_as_a_named_message(served, endpoint, data, name):
    events = api_events(served, endpoint, data)
    assert "event: error" in events and f"{name} contains an unpaired surrogate (U+D800)" in events
    assert "event: complete" in api_events(served, "fill", [SENTENCE, 3])


# --- temperatures too small for the sampler --------------------------------------------------------


@pytest.mark.parametrize("temperature", TINY_TEMPERATURES)
@pytest.mark.parametrize("request_", [
    GenerationRequest(PROMPT, max_tokens=20),  # the compiled sampler
    GenerationRequest(PROMPT, max_tokens=20, top_k=LIMITS.max_top_k),  # the NumPy sampler
    ChatRequest("Hello", decoding="sample"),
], ids=["generate, compiled", "generate, NumPy", "chat, sample"])
def test_a_tiny_temperature_is_refused_saying_that_0_is_greedy(engine, request_, temperature):
    expected = f"^temperature must be 0 \\(greedy\\) or between {LIMITS.min_temperature:g} and 5, not "
    with pytest.raises(InputError, match=expected):
        serve(engine, dataclasses.replace(request_, temperature=temperature))


@pytest.mark.parametrize("request_", [
    GenerationRequest(PROMPT, max_tokens=40, seed=3),
    GenerationRequest(PROMPT, max_tokens=40, seed=3, top_k=LIMITS.max_top_k),
], ids=["compiled", "NumPy"])
def test_the_smallest_temperature_samples_the_greedy_text(engine, request_):
    """At the floor a token 0.1 below the best in logit is e^10 times less likely: no garbage, no empty text."""
    coldest = engine.generate(dataclasses.replace(request_, temperature=LIMITS.min_temperature))
    greedy = engine.generate(dataclasses.replace(request_, temperature=0.0))
    assert coldest.tokens == 40 and coldest.text == greedy.text


def test_the_smallest_temperature_samples_the_greedy_chat_reply(engine):
    coldest = serve(engine, ChatRequest("Hello", decoding="sample", temperature=LIMITS.min_temperature, seed=3))
    greedy = serve(engine, ChatRequest("Hello", decoding="greedy"))
    # The tiny test model has near-ties (logits within 0.01), where the floor may pick either token, even
    # the first (the quick chatbot of embeddings drawn from N(0, 1) did); what matters is that every pick is
    # a near-best one: no garbage, no empty reply (degenerate temperatures gave both). Garbage would lie nats
    # per token below the greedy reply's mean log-probability.
    assert coldest.text.strip()
    assert coldest.confidence == pytest.approx(greedy.confidence, abs=0.1)


# --- damaged assets: files named from the assets folder down ----------------------------------------


def _rewrite_config(directory, change) -> None:
    path = directory / "config.json"
    meta = json.loads(path.read_text())
    change(meta)
    path.write_text(json.dumps(meta))


def _truncate_keeping_hash(directory) -> None:
    """Only the safetensors reader can tell."""
    weights = directory / WEIGHTS_FILE
    weights.write_bytes(weights.read_bytes()[:5_000])
    _rewrite_config(directory, lambda meta: meta["files"].update({WEIGHTS_FILE: sha256_file(weights)}))


# name: (how the assets are damaged, a part of what the chat then says)
DAMAGES = {
    "tokenizer not SentencePiece's": (lambda a: (a / "tokenizer.model").write_bytes(b"garbage"),
                                      "could not parse ModelProto from assets/tokenizer.model"),
    "tokenizer missing": (lambda a: (a / "tokenizer.model").unlink(), "tokenizer file assets/tokenizer.model"),
    "config.json not JSON": (lambda a: (a / "chatbot" / "config.json").write_text("{oops"),
                             "assets/chatbot/config.json is not valid JSON"),
    "config.json not UTF-8": (lambda a: (a / "chatbot" / "config.json").write_bytes(b"\xff\xfe"),
                              "assets/chatbot/config.json is not valid JSON"),
    "config.json of something else": (lambda a: (a / "chatbot" / "config.json").write_text("[]"),
                                      "assets/chatbot/config.json is not a checkpoint description"),
    "config.json names a file outside": (
        lambda a: _rewrite_config(a / "chatbot", lambda m: m["files"].update({"/etc/hostname": "0" * 64})),
        "assets/chatbot/config.json lists a file outside its folder"),
    "another tokenizer": (lambda a: _rewrite_config(a / "chatbot", lambda m: m.update(tokenizer_sha256="0" * 64)),
                          "another tokenizer than assets/tokenizer.model"),
    "truncated weights, hash updated": (lambda a: _truncate_keeping_hash(a / "chatbot"), "weights are unreadable"),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_asset_is_named_from_the_assets_folder_never_by_its_absolute_path(assets_copy, quick_assets,
                                                                                    tmp_path, damage):
    corrupt, expected = DAMAGES[damage]
    corrupt(assets_copy)
    engine = Engine(assets_copy)
    with pytest.raises(CheckpointError, match="python -m rnn_demo train") as refused:
        serve(engine, ChatRequest("Hello"))
    said_to_users = [str(refused.value), *engine.status().values(), *notices.tab_notices(engine).values()]
    assert expected in str(refused.value)
    # quick_assets too: the command recorded in config.json at training names the folder it wrote to
    for folder in (tmp_path, assets_copy.resolve(), quick_assets.resolve()):
        assert not any(str(folder) in message for message in said_to_users), said_to_users


def test_a_damaged_asset_reaches_an_api_caller_without_server_paths(assets_copy, serve_app, tmp_path):
    (assets_copy / "blank" / "config.json").write_text("{oops")
    with serve_app(Engine(assets_copy)) as demo:
        events = api_events(demo, "fill", [SENTENCE, 3])
    assert "event: error" in events and "assets/blank/config.json is not valid JSON" in events
    assert "python -m rnn_demo train blank" in events and str(tmp_path) not in events


# --- the models' symbols typed as text ---------------------------------------------------------------


def test_symbols_typed_in_the_chat_are_text_not_the_models_symbols(engine):
    reply = serve(engine, ChatRequest("hello <sep> world <shakespeare>", history=("Hi <blank>", "<modern>")))
    assert reply.source_pieces[0] == PERSONA_MODERN  # the persona tag the request chose, put there by the engine
    assert reply.source_pieces.count(PERSONA_MODERN) == 1
    assert reply.source_pieces.count(SEP) == 2  # between the three turns, and none from their text
    assert not {"<shakespeare>", "<blank>"} & set(reply.source_pieces)


@pytest.mark.parametrize("text", ["hello <sep> world", "<<sep>>", "<shakespeare>to be<modern>", "a<blank>b<sep",
                                  "<sep>\u2581<sep>"])
def test_symbols_in_text_encode_as_ordinary_pieces_and_decode_back(tokenizer, text):
    ids = tokenizer.encode(text)
    assert not {tokenizer.piece_id(symbol) for symbol in MARKUP_SYMBOLS} & set(ids)
    assert tokenizer.decode(ids) == text


@pytest.mark.parametrize("text", ["ROMEO:\nBut soft, what light through yonder window breaks?", "a < b > c",
                                  "<i>tags</i> and <sep", "你好，世界 🎭", "line one\nline two"])
def test_text_without_symbols_encodes_as_sentencepiece_does(tokenizer, text):
    plain = spm.SentencePieceProcessor(model_file=str(tokenizer.path))
    assert tokenizer.encode(text) == plain.encode(text)

