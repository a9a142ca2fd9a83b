"""`python -m rnn_demo train text --file F [--cell … --optimizer …] [--json]`, and generation from a downloaded model.

Training prints the Train tab's events, one JSON object a line with `--json` (else a short line each), and
writes the model file (`--out`, a zip) that the tab's upload and `generate --model FILE` load again.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

from ..config import LIMITS, InputError, Limits
from . import archive
from .settings import CELLS, OPTIMIZERS, PRESETS, TrainSettings, check_settings, decode_upload

CHOICES = {"cell": CELLS, "optimizer": OPTIMIZERS}
SHOWN = ("start", "eval", "sample", "early_stop", "done", "error")  # without --json (progress only with it)


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(prog="python -m rnn_demo train text",
                                    description="train an RNN language model on your own text (the Train tab)")
    parse.add_argument("--file", type=Path, required=True, help="a UTF-8 text file, at most 2 MB")
    parse.add_argument("--preset", choices=sorted(PRESETS), default="small", help="the starting settings")
    parse.add_argument("--out", type=Path, help="the model file to write (default <file stem>.rnn-model.zip)")
    parse.add_argument("--json", action="store_true", help="every event as one JSON object a line")
    for field in dataclasses.fields(TrainSettings):
        parse.add_argument("--" + field.name.replace("_", "-"), dest=field.name, default=None,
                           type=type(field.default), choices=CHOICES.get(field.name),
                           help=f"default: the preset's ({field.default} in small)")
    return parse


def train_main(argv: list[str]) -> int:
    """Trains on `--file`; exit status 2 with a one-line message for bad input."""
    from .trainer import train

    args = parser().parse_args(argv)
    try:
        if not args.file.is_file():
            raise InputError(f"no such file: {args.file}")
        text = decode_upload(args.file.read_bytes()[:archive.MAX_ARCHIVE_BYTES])
        chosen = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainSettings)
                  if getattr(args, f.name) is not None}
        settings = check_settings(dataclasses.replace(PRESETS[args.preset], **chosen))
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    out = args.out or args.file.with_suffix(".rnn-model.zip")
    with tempfile.TemporaryDirectory() as scratch:
        done = train(text, settings, Path(scratch) / "model", emit=lambda event: _print(event, args.json))
        out.write_bytes(archive.pack(Path(done["folder"])))
    _print({"event": "saved", "model": str(out)}, args.json)
    return 0


def _print(event: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps({k: v for k, v in event.items() if k != "folder"}, ensure_ascii=False), flush=True)
    elif event["event"] in SHOWN or event["event"] == "saved":
        print(" ".join(f"{k}={v}" for k, v in event.items() if k not in ("points", "folder")), flush=True)


def check_request(prompt: str, max_tokens: int, temperature: float, limits: Limits = LIMITS) -> None:
    """InputError if a generation request is outside the app's limits (the tab and the command line)."""
    if not isinstance(prompt, str) or len(prompt) > limits.max_prompt_chars:
        raise InputError(f"the prompt must be text of at most {limits.max_prompt_chars:,} characters")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or not 1 <= max_tokens <= limits.max_new_tokens:
        raise InputError(f"max tokens must be a whole number from 1 to {limits.max_new_tokens:,}")
    if not isinstance(temperature, (int, float)) or not (temperature == 0 or
                                                         limits.min_temperature <= temperature <= limits.max_temperature):
        raise InputError(f"temperature must be 0 (greedy) or from {limits.min_temperature:g} to {limits.max_temperature:g}")


def generate(path: Path, *, prompt: str, max_tokens: int, temperature: float, seed: int,
             deadline_s: float = LIMITS.deadline_s) -> dict:
    """Generates from a downloaded model file; the same result keys as `generate` with a shipped model."""
    check_request(prompt, max_tokens, temperature)
    if not path.is_file():
        raise InputError(f"no such model file: {path}")
    model = archive.load_archive(path.read_bytes()[:archive.MAX_ARCHIVE_BYTES + 1])
    started = time.perf_counter()
    text, tokens = prompt, 0
    for tokens, text in enumerate(model.stream(prompt, max_tokens=max_tokens, temperature=temperature, seed=seed,
                                               deadline_s=deadline_s), start=1):
        pass
    seconds = time.perf_counter() - started
    return {"text": text, "tokens": tokens, "seconds": round(seconds, 4),
            "tokens_per_second": round(tokens / max(seconds, 1e-9), 1)}
