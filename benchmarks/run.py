"""Every speed budget of the project in one Markdown table: `python benchmarks/run.py`.

Sections (pick some with `--only`, shrink all with `--quick` for a smoke run):

- startup: `python app.py` spawned on a free port — page served, first answer, resident memory;
- load: many users at once against that same app (gradio_client, one client per thread);
- fairness: against that same app, a light visitor's latency while heavy visitors stream without pause;
- generation: batch-1 tokens/s of the served fast path vs a TensorFlow-tutorial-style loop, first token;
- latency: chat reply (beam 4) and fill the blank (top 5), p50 over held-out inputs;
- batching: one stream alone vs `users` streams at once in this process, batched and each on its own;
- training: the project's training pipeline vs the tutorial's, on the same model and data;
- soak: its own `python app.py` under 10,000 valid and refused REST calls and 1,000 idle connections —
  memory and temp folder growth, a normal request's p50 during it vs idle.

The table goes to stdout, progress to stderr; `--json FILE` also writes the rows as data.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as app.py serves
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.report import Machine, Row, markdown, write_json  # noqa: E402
from rnn_demo.models import registry  # noqa: E402

ASSETS = REPO / "assets"
SECTIONS = ("startup", "load", "fairness", "generation", "latency", "batching", "training", "soak")
APP_SECTIONS = {"startup", "load", "fairness"}
ENGINE_SECTIONS = {"generation", "latency", "batching"}
log = logging.getLogger("benchmarks")


@dataclass(frozen=True)
class Settings:
    """How much each section measures; every field is also a command-line flag."""

    model: str = registry.DEFAULT_LANGUAGE_MODEL  # the language model generation is timed with
    tokens: int = 500  # new tokens per generation run
    repeats: int = 3  # generation runs of each method (median)
    latency_inputs: int = 20  # held-out inputs of each kind for chat and for fill (2× this in all)
    users: int = 16
    user_tokens: int = 100  # tokens each user's /generate asks for
    startup_timeout_s: float = 120.0
    request_timeout_s: float = 120.0  # a load request still unanswered after this is "hung"
    fairness_heavy: int = 20  # heavy visitors, each streaming fairness_heavy_tokens again and again
    fairness_heavy_tokens: int = 1_000
    fairness_light_requests: int = 10  # the light visitor's 50-token requests timed under that load
    soak_calls: int = 10_000  # REST calls, valid and refused, of the soak
    soak_idle: int = 1_000  # idle connections held open during the soak
    train_warmup: int = 3  # steps before timing (tracing, first batches)
    train_steps: int = 20  # steps timed
    train_repeats: int = 2  # alternating runs of each pipeline (median)
    train_batch_size: int = 0  # 0: the shipped model's training batch size
    train_seq_len: int = 0  # 0: the shipped model's training sequence length


QUICK = dict(tokens=50, repeats=1, latency_inputs=3, users=4, user_tokens=20, train_warmup=2, train_steps=5,
             train_repeats=1, train_batch_size=8, train_seq_len=32,
             fairness_heavy=4, fairness_heavy_tokens=200, fairness_light_requests=3, soak_calls=500, soak_idle=100)


def app_rows(settings: Settings, sections: set[str]) -> list[Row]:
    """Start-up, load and fairness rows from one `python app.py`, always stopped at the end."""
    from benchmarks import fairness, load, startup
    from benchmarks.app_process import AppDied, AppProcess

    rows: list[Row] = []
    with AppProcess() as app:
        log.info("spawned app.py on %s (log: %s)", app.url, app.log_path)
        try:
            startup_rows, models = startup.measure(app, timeout_s=settings.startup_timeout_s)
        except (startup.StartupFailed, AppDied) as error:
            return [Row("`python app.py`", "start-up", None, "", met=False, note=f"failed: {error}")]
        if "startup" in sections:
            rows += startup_rows
        if "load" in sections:
            log.info("load: %d users", settings.users)
            rows += load.measure(app.url, users=settings.users, tokens=settings.user_tokens,
                                 timeout_s=settings.request_timeout_s)
            rows.append(startup.memory_row(app, models, when="after the load rounds"))
        if "fairness" in sections:
            log.info("fairness: %d heavy visitors", settings.fairness_heavy)
            rows += fairness.measure(app.url, heavy=settings.fairness_heavy,
                                     heavy_tokens=settings.fairness_heavy_tokens,
                                     light_requests=settings.fairness_light_requests,
                                     timeout_s=settings.request_timeout_s)
    if "startup" in sections:  # after the app above has stopped: one app at a time
        log.info("startup: the baseline (TensorFlow imported) and a cold Numba cache")
        rows[len(startup_rows):len(startup_rows)] = startup.variant_rows(startup_rows,
                                                                         timeout_s=settings.startup_timeout_s)
    return rows


def engine_rows(settings: Settings, sections: set[str]) -> list[Row]:
    """Generation and latency rows, measured in this process on the shipped models."""
    import numpy as np

    from benchmarks import generation, latency
    from rnn_demo.serving import Engine

    np.seterr(all="ignore")
    engine = Engine(ASSETS)
    rows = []
    if "generation" in sections:
        log.info("generation: %d tokens × %d", settings.tokens, settings.repeats)
        rows += generation.measure(engine, model=settings.model, tokens=settings.tokens, repeats=settings.repeats)
    if "latency" in sections:
        log.info("latency: chat and fill")
        rows += latency.measure(engine, count=settings.latency_inputs)
    if "batching" in sections:
        from benchmarks import load

        log.info("batching: %d streams at once", settings.users)
        rows += load.batched_decoding(engine, model=settings.model, users=settings.users,
                                      tokens=settings.user_tokens, repeats=settings.repeats)
    return rows


def training_rows(settings: Settings, *, quick: bool) -> list[Row]:
    from benchmarks import training_speed

    log.info("training: %d steps after %d warm-up, %d repeats", settings.train_steps, settings.train_warmup,
             settings.train_repeats)
    return training_speed.measure(ASSETS, quick=quick, warmup=settings.train_warmup, steps=settings.train_steps,
                                  repeats=settings.train_repeats, batch_size=settings.train_batch_size or None,
                                  seq_len=settings.train_seq_len or None)


def soak_rows(settings: Settings) -> list[Row]:
    """The soak's rows, from a `python app.py` of its own (its memory and temp folder start fresh)."""
    from benchmarks import soak

    log.info("soak: %d REST calls, %d idle connections", settings.soak_calls, settings.soak_idle)
    return soak.measure(calls=settings.soak_calls, idle=settings.soak_idle, timeout_s=settings.startup_timeout_s)


def run(settings: Settings, sections: set[str], *, quick: bool) -> list[Row]:
    """Every chosen section, the app first (so that this process is still small and idle while it starts)."""
    rows = []
    if sections & APP_SECTIONS:
        rows += app_rows(settings, sections)
    if sections & ENGINE_SECTIONS:
        rows += engine_rows(settings, sections)
    if "training" in sections:
        rows += training_rows(settings, quick=quick)
    if "soak" in sections:
        rows += soak_rows(settings)
    return rows


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny settings for a smoke run (seconds per section)")
    parser.add_argument("--only", action="append", choices=SECTIONS, help="run only this section (repeatable)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results to FILE as JSON")
    for field in fields(Settings):
        parser.add_argument("--" + field.name.replace("_", "-"), type=type(field.default), default=None,
                            dest=field.name, help=f"default {field.default} ({QUICK.get(field.name, field.default)} "
                                                  f"with --quick)")
    return parser


def settings_from(args) -> Settings:
    """Defaults, then `--quick`, then any flag given."""
    settings = replace(Settings(), **QUICK) if args.quick else Settings()
    given = {f.name: getattr(args, f.name) for f in fields(Settings) if getattr(args, f.name) is not None}
    return replace(settings, **given)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # gradio_client logs every request
    args = _parser().parse_args()
    settings = settings_from(args)
    sections = set(args.only or SECTIONS)
    machine = Machine.here()
    rows = run(settings, sections, quick=args.quick)
    print(markdown(machine, rows))
    if args.json:
        write_json(args.json, machine, rows, {"quick": args.quick, "sections": sorted(sections), **asdict(settings)})


if __name__ == "__main__":
    main()
