"""Speed of the shipped models, as a Markdown table: `python benchmarks/run.py`.

Generation at batch 1 compares the fast NumPy path with a TensorFlow-tutorial-style loop on
the same weights, one after the other in one process, so their ratio holds on a noisy shared
machine. Chat and fill latencies are medians over held-out inputs.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as app.py serves
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from rnn_demo.checkpoints import CheckpointError  # noqa: E402
from rnn_demo.engines import ChatRequest, Engine, GenerationRequest  # noqa: E402
from rnn_demo.tokenizer import BOS_ID  # noqa: E402

ASSETS = Path(__file__).resolve().parent.parent / "assets"


def tutorial_loop(model, prompt_ids: list[int], new_tokens: int, temperature: float) -> float:
    """The text-generation tutorial's `OneStep`: one `tf.function` call per generated token."""

    @tf.function
    def one_step(inputs, states):
        logits, states = model(inputs, states=states, return_state=True)
        logits = logits[:, -1, :] / temperature
        return tf.random.categorical(logits, num_samples=1, dtype=tf.int32), states

    states = [[tf.constant(s) for s in layer] for layer in model.initial_state(1)]
    inputs = tf.constant([prompt_ids], dtype=tf.int32)
    token, states = one_step(inputs, states)  # the prompt (and tracing)
    started = time.perf_counter()
    for _ in range(new_tokens):
        token, states = one_step(token, states)
    return new_tokens / (time.perf_counter() - started)


def fast_path(engine: Engine, request: GenerationRequest) -> tuple[float, float]:
    """(tokens/s of the whole served path, seconds to the first streamed chunk)."""
    started = time.perf_counter()
    first = None
    tokens = 0
    for chunk in engine.stream(request):
        if first is None:
            first = time.perf_counter() - started
        tokens = chunk.tokens
    return tokens / (time.perf_counter() - started), first


def p50_ms(call, inputs) -> float:
    """Median wall-clock milliseconds of `call(x)` over `inputs` (after one warm-up call)."""
    call(inputs[0])
    times = []
    for item in inputs:
        started = time.perf_counter()
        call(item)
        times.append(1000 * (time.perf_counter() - started))
    return statistics.median(times)


def chat_and_fill(engine: Engine, count: int) -> dict:
    """p50 latency of a beam-4 chat reply and of a top-5 fill, on held-out inputs."""
    from rnn_demo import blanks, dialogues

    messages = [question for question, _ in dialogues.heldout_capital_questions()[::37]][:count]
    messages += [e.context[-1] for e in dialogues.chat_exchanges("validation")[::7]][:count]
    sentences = [b.left + "___" + b.right for b in blanks.blanks("validation")[::97]][:2 * count]

    def chat(message):
        *_, reply = engine.chat(ChatRequest(message=message, decoding="beam", beam_width=4))
        return reply

    return {"chat_p50_ms": p50_ms(chat, messages), "chat_inputs": len(messages),
            "fill_p50_ms": p50_ms(lambda sentence: engine.fill(sentence, 5), sentences),
            "fill_inputs": len(sentences)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="shakespeare-gru")
    parser.add_argument("--tokens", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    engine = Engine(ASSETS)
    loaded = engine.language_model(args.model)
    request = GenerationRequest(prompt="ROMEO:\n", model=args.model, max_tokens=args.tokens,
                                temperature=0.8, seed=1)
    prompt_ids = [BOS_ID] + engine.tokenizer.encode(request.prompt)
    tutorial = [tutorial_loop(loaded.model, prompt_ids, args.tokens, 0.8) for _ in range(args.repeats)]
    fast = [fast_path(engine, request) for _ in range(args.repeats)]
    result = {
        "model": args.model,
        "tutorial_tokens_per_second": statistics.median(tutorial),
        "fast_tokens_per_second": statistics.median(f[0] for f in fast),
        "first_chunk_ms": 1000 * statistics.median(f[1] for f in fast),
    }
    result["speedup"] = result["fast_tokens_per_second"] / result["tutorial_tokens_per_second"]
    try:
        result.update(chat_and_fill(engine, count=20))
    except CheckpointError as error:  # the table still reports generation
        result["chat_and_fill"] = str(error)
    if args.json:
        print(json.dumps(result))
        return
    print(f"| method ({args.model}, batch 1) | tokens/s | ratio |\n|---|---|---|")
    print(f"| tutorial-style loop (one tf.function call per token) | {result['tutorial_tokens_per_second']:.0f} | 1.0 |")
    print(f"| fast NumPy step, served path (sampling + detokenising) | {result['fast_tokens_per_second']:.0f} "
          f"| {result['speedup']:.1f} |")
    print(f"\n| latency | median | inputs |\n|---|---|---|")
    print(f"| first streamed chunk (generate) | {result['first_chunk_ms']:.1f} ms | {args.repeats} |")
    if "chat_and_fill" in result:
        print(f"\nchat and fill not measured: {result['chat_and_fill']}")
        return
    print(f"| chat reply, beam 4 | {result['chat_p50_ms']:.0f} ms | {result['chat_inputs']} |")
    print(f"| fill the blank, top 5 | {result['fill_p50_ms']:.0f} ms | {result['fill_inputs']} |")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
