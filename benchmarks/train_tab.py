"""The Train tab's training against a plain `model.fit`, side by side in one run, and seconds to the first sample.

Both train the same model (`usertrain.model`, same seed, cell, sizes, optimizer) on the same text (the start of
Hamlet, read as characters) with the same batch size and window length, for the same number of steps:

- tab: `usertrain.trainer.train`, as the training process runs it (tf.data windows, evaluation every
  `eval_every` steps, a sample every `sample_every`, progress events, best weights kept);
- plain: `model.fit(x, y, batch_size, epochs=1)` on NumPy arrays of the same windows, no validation, no callbacks.

Throughput = training tokens ÷ wall-clock seconds of the whole fit (tracing included, the tab's evaluations and
samples included). Runs alternate tab, plain, plain, tab … so that drift in the machine's load hits both alike;
the figure is the median ratio. Then one run through the `RunStore` (a spawned process, TensorFlow imported
there) times the seconds from Submit to the first sample on screen.

    python -m benchmarks.train_tab [--steps 300] [--repeats 2] [--json]
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

MIN_RATIO = 1.0  # tab ÷ plain fit


def _text() -> str:
    from rnn_demo.data import corpora

    return next(p for p in corpora.plays() if p.name == "hamlet").text[:150_000]


def tab_run(text: str, settings) -> float:
    from rnn_demo.usertrain import trainer

    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        done = trainer.train(text, settings, Path(folder), emit=lambda event: None)
        seconds = time.perf_counter() - started
    return done["steps"] * settings.batch_size * settings.seq_len / seconds


def plain_run(text: str, settings) -> float:
    import keras
    import numpy as np

    from rnn_demo.usertrain import model as user_model
    from rnn_demo.usertrain import tokens, trainer
    from rnn_demo.usertrain.settings import UserModelConfig

    keras.utils.set_random_seed(settings.seed)
    tokenizer = tokens.CharTokenizer.of_text(text)
    ids = np.asarray(tokenizer.encode(text), dtype=np.int32)
    train_ids, _, seq = trainer.split_ids(ids, settings.seq_len)
    x, y = trainer.windows(train_ids, seq, max(1, seq // 2))
    count = settings.max_steps * settings.batch_size
    x, y = np.resize(x, (count, seq)), np.resize(y, (count, seq))  # exactly max_steps batches
    model = user_model.build(UserModelConfig.of(settings, tokenizer.vocab_size))
    user_model.compile_model(model, settings.optimizer, settings.learning_rate)
    started = time.perf_counter()
    model.fit(x, y, batch_size=settings.batch_size, epochs=1, shuffle=True, verbose=0)
    return count * seq / (time.perf_counter() - started)


def first_sample_seconds(text: str, settings) -> float:
    from rnn_demo.serving.runs import RunStore

    with tempfile.TemporaryDirectory() as folder:
        store = RunStore(Path(folder))
        try:
            started = time.perf_counter()
            run_id = store.submit("benchmark-visitor", text, settings)
            while not any(e["event"] == "sample" for e in store.status("benchmark-visitor", run_id)["events"]):
                time.sleep(0.1)
            seconds = time.perf_counter() - started
            store.stop("benchmark-visitor", run_id)
        finally:
            store.close()
    return seconds


def main(argv=None) -> int:
    from dataclasses import replace

    from rnn_demo.usertrain.settings import PRESETS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=2, help="pairs of runs (tab, plain, plain, tab, …)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    text = _text()
    settings = replace(PRESETS["small"], max_steps=args.steps, patience=10_000)
    ratios, tab, plain = [], [], []
    for index in range(args.repeats):
        order = (tab_run, plain_run) if index % 2 == 0 else (plain_run, tab_run)
        figures = {run: run(text, settings) for run in order}
        tab.append(figures[tab_run])
        plain.append(figures[plain_run])
        ratios.append(figures[tab_run] / figures[plain_run])
    result = {"tab_tokens_per_second": round(statistics.median(tab)), "plain_fit_tokens_per_second":
              round(statistics.median(plain)), "ratio": round(statistics.median(ratios), 3), "min_ratio": MIN_RATIO,
              "steps": args.steps, "settings": "small preset (GRU 128, 1 layer, Adam, batch 32, window 64)",
              "seconds_to_first_sample": round(first_sample_seconds(text, replace(PRESETS["small"], sample_every=20,
                                                                                   eval_every=20)), 1)}
    result["meets_target"] = result["ratio"] >= MIN_RATIO
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
