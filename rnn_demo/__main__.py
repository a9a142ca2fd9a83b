"""The command line: `python -m rnn_demo {train,evaluate,generate,chat,fill}`."""
from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import sys
import time
from dataclasses import fields, replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Batch-1 decoding is a chain of small, memory-bound matrix-vector products: extra BLAS threads
# only fight the other requests for the two cores (measured 2.2x slower with 2 threads under load).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from .config import LIMITS, LanguageModelConfig, Seq2SeqConfig, TokenizerConfig, TrainingConfig  # noqa: E402
from .models import registry  # noqa: E402

ASSETS = Path(__file__).resolve().parent.parent / "assets"
RUNS = Path("runs")
log = logging.getLogger("rnn_demo")


class UsageError(Exception):
    """Bad input on the command line: printed as one line, exit status 2."""


_FLAG_TYPES = {"int": int, "float": float, "str": str, "int | None": int}


def _add_dataclass_flags(parser, classes) -> None:
    """One `--field-name` flag per dataclass field; a field two classes share sets both.
    Default None keeps each class's own default."""
    added = set()
    for cls in classes:
        for field in fields(cls):
            if field.name in added:
                continue
            added.add(field.name)
            parser.add_argument("--" + field.name.replace("_", "-"), type=_FLAG_TYPES.get(field.type, str),
                                default=None, dest=field.name, help=f"default {field.default}")


def _dataclass_from_flags(args, cls, base):
    values = {f.name: getattr(args, f.name) for f in fields(cls) if getattr(args, f.name, None) is not None}
    return replace(base, **values)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m rnn_demo", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train the tokenizer or a model")
    train.add_argument("what", choices=["tokenizer", "shakespeare", "chatbot", "blank", "all"])
    train.add_argument("--quick", action="store_true", help="a tiny model in well under a minute")
    train.add_argument("--out", type=Path, default=ASSETS, help="folder for the checkpoint")
    train.add_argument("--name", help="checkpoint name (default shakespeare-<cell>)")
    train.add_argument("--tokenizer", type=Path, help="tokenizer file (default <out>/tokenizer.model)")
    train.add_argument("--json", action="store_true")
    # --vocab-size sizes the tokenizer; models always take the tokenizer's size.
    _add_dataclass_flags(train, [TokenizerConfig, LanguageModelConfig, Seq2SeqConfig, TrainingConfig])

    evaluate = sub.add_parser("evaluate", help="held-out metrics of a model")
    evaluate.add_argument("what", choices=["shakespeare", "chatbot", "blank"])
    evaluate.add_argument("--model", default="shakespeare-gru")
    evaluate.add_argument("--text", type=Path, help="a text file, read as it is (default: held-out plays)")
    evaluate.add_argument("--assets", type=Path, default=ASSETS)
    evaluate.add_argument("--json", action="store_true")

    generate = sub.add_parser("generate", help="continue a prompt in Shakespeare's style")
    generate.add_argument("--prompt", required=True)
    generate.add_argument("--max-tokens", type=int, default=LIMITS.default_new_tokens)
    generate.add_argument("--temperature", type=float, default=0.8)
    generate.add_argument("--top-k", type=int, default=0)
    generate.add_argument("--top-p", type=float, default=1.0)
    generate.add_argument("--repetition-penalty", type=float, default=1.0)
    generate.add_argument("--seed", type=int, default=0)
    generate.add_argument("--model", default="shakespeare-gru")
    generate.add_argument("--assets", type=Path, default=ASSETS)
    generate.add_argument("--json", action="store_true")
    chat = sub.add_parser("chat", help="one chatbot reply (or one per line of --input-file)")
    chat.add_argument("message", nargs="?", help="the message (omit with --input-file)")
    chat.add_argument("--input-file", type=Path, help="answer each line as its own one-turn conversation")
    chat.add_argument("--persona", default="modern", help="modern or shakespeare")
    chat.add_argument("--decoding", default="beam", help="beam, greedy or sample")
    chat.add_argument("--beam-width", type=int, default=4)
    chat.add_argument("--length-penalty", type=float, default=0.6)
    chat.add_argument("--temperature", type=float, default=0.8)
    chat.add_argument("--top-k", type=int, default=0)
    chat.add_argument("--top-p", type=float, default=1.0)
    chat.add_argument("--seed", type=int, default=0)
    chat.add_argument("--assets", type=Path, default=ASSETS)
    chat.add_argument("--json", action="store_true")
    fill = sub.add_parser("fill", help="rank the fillers of the gap (___ or [MASK]) in a sentence")
    fill.add_argument("sentence", nargs="?", help="e.g. 'Paris is the capital of ___.' (omit with --input-file)")
    fill.add_argument("--input-file", type=Path, help="fill each line as its own sentence")
    fill.add_argument("--top-k", type=int, default=5)
    fill.add_argument("--assets", type=Path, default=ASSETS)
    fill.add_argument("--json", action="store_true")
    return parser


def _emit(result: dict, as_json: bool, text_key: str | None = None) -> None:
    if as_json:
        print(json.dumps(result, ensure_ascii=False))
    elif text_key:
        print(result[text_key])
    else:
        for key, value in result.items():
            print(f"{key}: {value}")


def _train(args, argv: list[str]) -> dict:
    from .training import trainers as training
    from .tokenizer import Tokenizer, train_tokenizer

    command = "python -m rnn_demo " + " ".join(shlex.quote(a) for a in argv)
    tokenizer_path = args.tokenizer or args.out / "tokenizer.model"
    result = {}
    if args.what in ("tokenizer", "all"):
        config = _dataclass_from_flags(args, TokenizerConfig, TokenizerConfig())
        if args.quick:
            config = replace(config, vocab_size=min(config.vocab_size, 600), max_sentences=20_000)
        tokenizer = train_tokenizer(tokenizer_path, config)
        result["tokenizer"] = {"path": str(tokenizer_path), "sha256": tokenizer.sha256,
                               "vocab_size": tokenizer.vocab_size}
    if args.what in ("shakespeare", "all"):
        tokenizer = Tokenizer(tokenizer_path)
        model_config = _dataclass_from_flags(args, LanguageModelConfig, LanguageModelConfig())
        train_config = _dataclass_from_flags(args, TrainingConfig, training.LANGUAGE_MODEL_TRAINING)
        if args.quick:
            model_config, train_config = training.quick_configs(model_config, train_config)
        name = args.name or f"shakespeare-{model_config.cell}"
        run_dir = RUNS / name if not args.quick else args.out / f".{name}-run"
        run_dir.mkdir(parents=True, exist_ok=True)
        meta = training.train_language_model(
            tokenizer=tokenizer, model_config=model_config, training=train_config, out_dir=args.out,
            name=name, quick=args.quick, command=command, run_dir=run_dir)
        result[name] = {"path": str(args.out / name), "metrics": meta["metrics"]}
    for what in ("chatbot", "blank"):
        if args.what in (what, "all"):
            result[what] = _train_seq2seq(what, args, tokenizer_path, command)
    return result


def _train_seq2seq(what: str, args, tokenizer_path: Path, command: str) -> dict:
    """Trains the chatbot or the gap filler: defaults of that model, then the flags, then --quick."""
    from .training import trainers as training
    from .tokenizer import Tokenizer

    model_defaults, train_defaults, train = {
        "chatbot": ({}, training.CHATBOT_TRAINING, training.train_chatbot),
        "blank": (training.BLANK_MODEL, training.BLANK_TRAINING, training.train_blank),
    }[what]
    model_config = _dataclass_from_flags(args, Seq2SeqConfig, replace(Seq2SeqConfig(), **model_defaults))
    train_config = _dataclass_from_flags(args, TrainingConfig, replace(TrainingConfig(), **train_defaults))
    if train_config.round_matrices:
        raise ValueError("--round-matrices applies to the Shakespeare language models only")
    if args.quick:
        model_config = replace(model_config, **training.QUICK_SEQ2SEQ)
        train_config = replace(train_config, **training.QUICK_CHATBOT_TRAINING)
    name = args.name if args.what == what and args.name else what
    run_dir = RUNS / name if not args.quick else args.out / f".{name}-run"
    run_dir.mkdir(parents=True, exist_ok=True)
    meta = train(tokenizer=Tokenizer(tokenizer_path), model_config=model_config, training=train_config,
                 out_dir=args.out, name=name, quick=args.quick, command=command, run_dir=run_dir)
    return {"path": str(args.out / name), "metrics": meta["metrics"]}


def _engine(assets: Path):
    from .serving.engine import Engine

    return Engine(assets)


def _evaluate(args) -> dict:
    from . import evaluation
    from .data import corpora

    engine = _engine(args.assets)
    if args.what == "blank":
        loaded = engine.model(registry.FILL_MODEL)
        from .data.quotes import training_index

        return evaluation.blank_metrics(loaded.fast, engine.tokenizer, loaded.checkpoint.model_config,
                                        index=training_index())
    if args.what == "chatbot":
        loaded = engine.model(registry.CHAT_MODEL)
        return evaluation.chatbot_metrics(loaded.fast, engine.tokenizer, loaded.checkpoint.model_config)
    model = engine.language_model(args.model).model
    if args.text:
        try:
            texts = [args.text.read_text(encoding="utf-8")]
        except (OSError, UnicodeDecodeError) as error:
            raise UsageError(f"cannot read --text {args.text}: {error}") from None
    else:
        texts = [play.text for play in corpora.play_split("validation")]
    metrics = evaluation.bits_per_char(model, engine.tokenizer, texts)
    return {"bits_per_char": metrics["bits_per_char"], "chars": metrics["chars"], "tokens": metrics["tokens"]}


def _generate(args) -> dict:
    from .serving.engine import GenerationRequest

    engine = _engine(args.assets)
    request = GenerationRequest(prompt=args.prompt, model=args.model, max_tokens=args.max_tokens,
                                temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
                                repetition_penalty=args.repetition_penalty, seed=args.seed)
    engine.validate_generation(request)
    engine.language_model(args.model)  # load before the clock starts
    started = time.perf_counter()
    result = engine.generate(request)
    seconds = time.perf_counter() - started
    if result.stop_reason == "deadline":
        log.warning("stopped at the time limit (%g s) after %d tokens", engine.limits.deadline_s, result.tokens)
    return {"text": result.text, "tokens": result.tokens, "seconds": round(seconds, 4),
            "tokens_per_second": round(result.tokens / max(seconds, 1e-9), 1),
            "stopped": result.stop_reason}


def _input_lines(input_file: Path | None, positional: str | None) -> list[str]:
    """The inputs of a command: the positional one, or each line of --input-file."""
    if input_file:
        try:
            return input_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as error:
            raise UsageError(f"cannot read --input-file {input_file}: {error}") from None
    if positional is None:
        raise UsageError("give the text as an argument, or --input-file FILE")
    return [positional]


def _chat(args) -> None:
    from .serving.engine import ChatRequest

    engine = _engine(args.assets)
    for message in _input_lines(args.input_file, args.message):
        request = ChatRequest(message=message, persona=args.persona, decoding=args.decoding,
                              beam_width=args.beam_width, length_penalty=args.length_penalty,
                              temperature=args.temperature, top_k=args.top_k, top_p=args.top_p, seed=args.seed)
        *_, reply = engine.chat(request)
        for note in reply.notes:
            log.warning(note)
        _emit({"reply": reply.text, "notes": reply.notes}, args.json, text_key="reply")


def _fill(args) -> None:
    from .serving import FillRequest

    engine = _engine(args.assets)
    for sentence in _input_lines(args.input_file, args.sentence):
        result = engine.fill(FillRequest(sentence, args.top_k))
        for note in result.notes:
            log.warning(note)
        candidates = []
        for text, probability in result.candidates:
            candidate = {"text": text, "probability": round(probability, 4)}
            if text in result.quoted:  # found in the training plays: where, and the RNN's own view
                candidate.update(play=result.quoted[text], model_probability=round(result.model_only[text], 4))
            candidates.append(candidate)
        answer = {"candidates": candidates, "completed": result.completed, "not_sure": result.not_sure,
                  "notes": result.notes, "quotation_matched_words": result.matched_words}
        _emit(answer, args.json, text_key="completed")


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _build_parser().parse_args(argv)
    from .checkpoints import CheckpointError
    from .config import InputError

    try:
        if args.command == "train":
            _emit(_train(args, argv), args.json)
        elif args.command == "evaluate":
            _emit(_evaluate(args), args.json)
        elif args.command == "generate":
            _emit(_generate(args), args.json, text_key="text")
        elif args.command == "chat":
            _chat(args)
        elif args.command == "fill":
            _fill(args)
    except (UsageError, InputError, CheckpointError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
