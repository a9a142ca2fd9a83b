"""The command line: `python -m rnn_demo {train,evaluate,generate,chat,fill,convert-weights,export}`."""
from __future__ import annotations

import argparse
import json
import logging
import math
import os
import shlex
import shutil
import sys
import time
from dataclasses import fields, replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Batch-1 decoding is a chain of small, memory-bound matrix-vector products: extra BLAS threads
# only fight the other requests for the two cores (measured 2.2x slower with 2 threads under load).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from .config import TokenizerConfig, TrainingConfig  # noqa: E402
from .models import registry  # noqa: E402

ASSETS = Path(__file__).resolve().parent.parent / "assets"
RUNS = Path("runs")
TOKENIZER = "tokenizer"  # the `train` target of the shared tokenizer (not a model: no recipe)
ALL = "all"  # the `train` target of the tokenizer, then every model target
TEXT = "text"  # `train text --file F`: a model of your own text (usertrain/cli.py has its flags)
TOKENIZER_FILE = "tokenizer.model"
QUICK_VOCAB_SIZE = 600  # at most, for `train tokenizer --quick`
QUICK_TOKENIZER_SENTENCES = 20_000
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
            if field.name in added or field.metadata.get("flag") is False:
                continue
            added.add(field.name)
            parser.add_argument("--" + field.name.replace("_", "-"), type=_FLAG_TYPES.get(field.type, str),
                                default=None, dest=field.name, help=f"default {field.default}")


def _dataclass_from_flags(args, cls, base):
    """`base` with the fields of `cls` that the flags set."""
    values = {f.name: getattr(args, f.name) for f in fields(cls) if getattr(args, f.name, None) is not None}
    return replace(base, **values)


def _alternatives(words) -> str:
    """"a, b or c": how the help names the values a flag takes."""
    *others, last = words
    return f"{', '.join(others)} or {last}" if others else last


def _build_parser() -> argparse.ArgumentParser:
    """The parser of every command; model names and request defaults come from the registry and the requests."""
    parser = argparse.ArgumentParser(prog="python -m rnn_demo", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_add_train, _add_evaluate, _add_generate, _add_chat, _add_fill, _add_convert_weights,
                _add_export):
        add(sub)
    return parser


def _add_train(sub) -> None:
    train = sub.add_parser("train", help="train the tokenizer or a model")
    train.add_argument("what", choices=[TOKENIZER, *registry.targets(), ALL, TEXT],
                       help=f"`{TEXT}`: your own text, see `train {TEXT} --help`")
    train.add_argument("--quick", action="store_true", help="a tiny model in well under a minute")
    train.add_argument("--out", type=Path, default=ASSETS, help="folder for the checkpoint")
    train.add_argument("--name", help="checkpoint name (default shakespeare-<cell>)")
    train.add_argument("--tokenizer", type=Path, help="tokenizer file (default <out>/tokenizer.model)")
    train.add_argument("--json", action="store_true")
    train.add_argument("--counts-only", action="store_true",
                       help="blank only: add the counts of the training sentences to the trained gap filler in "
                            "--out and measure it again, without training its network")
    # --vocab-size sizes the tokenizer; models always take the tokenizer's size.
    _add_dataclass_flags(train, [TokenizerConfig, *(family.config_class for family in registry.FAMILIES.values()),
                                 TrainingConfig])


def _positive_float(text: str) -> float:
    """An argparse type: a finite number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a number above 0")
    return value


def _add_evaluate(sub) -> None:
    evaluate = sub.add_parser("evaluate", help="held-out metrics of a model")
    evaluate.add_argument("what", choices=registry.targets())
    evaluate.add_argument("--model", default=registry.DEFAULT_LANGUAGE_MODEL)
    evaluate.add_argument("--text", type=Path, help="a text file, read as it is (default: held-out plays)")
    evaluate.add_argument("--dynamic-lr", type=_positive_float, metavar="LR",
                          help="shakespeare only: also report dynamic evaluation (one SGD step of size LR on "
                               "each stretch of text after scoring it), beside the static figure")
    evaluate.add_argument("--assets", type=Path, default=ASSETS)
    evaluate.add_argument("--json", action="store_true")


def _add_convert_weights(sub) -> None:
    convert = sub.add_parser("convert-weights",
                             help="convert checkpoints from Keras HDF5 weights (model.weights.h5) to safetensors")
    convert.add_argument("names", nargs="+", metavar="NAME", help="checkpoint folder names under --assets")
    convert.add_argument("--assets", type=Path, default=ASSETS)
    convert.add_argument("--json", action="store_true")


def _convert_weights(args) -> dict:
    """Converts each named checkpoint in place (`checkpoints.convert_legacy`); returns {name: its new files}."""
    from .checkpoints import convert_legacy
    from .tokenizer import Tokenizer

    tokenizer = Tokenizer(args.assets / TOKENIZER_FILE)
    converted = {}
    for name in args.names:
        meta = convert_legacy(args.assets / name, tokenizer, command=f"{registry.CLI} convert-weights {name}")
        converted[name] = meta["files"]
    return converted


def _add_export(sub) -> None:
    export = sub.add_parser("export", help="write a language model as a TensorFlow SavedModel or a .keras bundle")
    export.add_argument("out", type=Path, help="a new folder (for TensorFlow Serving: <base>/<model>/<version>)")
    export.add_argument("--model", default=registry.DEFAULT_LANGUAGE_MODEL,
                        choices=registry.names(family="language_model"))
    export.add_argument("--format", default="savedmodel", choices=("savedmodel", "keras"), dest="export_format")
    export.add_argument("--assets", type=Path, default=ASSETS)
    export.add_argument("--json", action="store_true")


def _export(args) -> dict:
    """Exports the model (`rnn_demo.export`); returns what its export.json says and where it went."""
    from .export import ExportError, export

    try:
        return export(args.model, args.export_format, args.out, assets=args.assets)
    except ExportError as error:
        raise UsageError(str(error)) from None


SAMPLING_FLAGS = {"temperature": float, "top_k": int, "top_p": float, "repetition_penalty": float, "seed": int}


def _add_sampling_flags(parser, request_class) -> None:
    """`--temperature`, `--top-k`, `--top-p`, `--repetition-penalty`, `--seed`: those of the fields
    `request_class` has, defaulting to its own defaults."""
    fields_of_request = {field.name for field in fields(request_class)}
    for name, kind in SAMPLING_FLAGS.items():
        if name in fields_of_request:
            parser.add_argument("--" + name.replace("_", "-"), type=kind, default=getattr(request_class, name))


def _add_generate(sub) -> None:
    from .serving import GenerationRequest

    generate = sub.add_parser("generate", help="continue a prompt in Shakespeare's style")
    generate.add_argument("--prompt", required=True)
    generate.add_argument("--max-tokens", type=int, default=GenerationRequest.max_tokens)
    _add_sampling_flags(generate, GenerationRequest)
    generate.add_argument("--model", default=GenerationRequest.model,
                          help="a shipped model's name, or a .zip model file of the Train tab")
    generate.add_argument("--assets", type=Path, default=ASSETS)
    generate.add_argument("--json", action="store_true")


def _add_chat(sub) -> None:
    from .serving import DECODINGS, PERSONAS, ChatRequest

    chat = sub.add_parser("chat", help="one chatbot reply (or one per line of --input-file)")
    chat.add_argument("message", nargs="?", help="the message (omit with --input-file)")
    chat.add_argument("--input-file", type=Path, help="answer each line as its own one-turn conversation")
    chat.add_argument("--persona", default=ChatRequest.persona, help=_alternatives(PERSONAS))
    chat.add_argument("--decoding", default=ChatRequest.decoding, help=_alternatives(DECODINGS))
    chat.add_argument("--beam-width", type=int, default=ChatRequest.beam_width)
    chat.add_argument("--length-penalty", type=float, default=ChatRequest.length_penalty)
    _add_sampling_flags(chat, ChatRequest)
    chat.add_argument("--assets", type=Path, default=ASSETS)
    chat.add_argument("--json", action="store_true")


def _add_fill(sub) -> None:
    from .serving import FillRequest

    fill = sub.add_parser("fill", help="rank the fillers of the gap (___ or [MASK]) in a sentence")
    fill.add_argument("sentence", nargs="?", help="e.g. 'Paris is the capital of ___.' (omit with --input-file)")
    fill.add_argument("--input-file", type=Path, help="fill each line as its own sentence")
    fill.add_argument("--top-k", type=int, default=FillRequest.top_k)
    fill.add_argument("--assets", type=Path, default=ASSETS)
    fill.add_argument("--json", action="store_true")


def _emit(result: dict, as_json: bool, text_key: str | None = None) -> None:
    """Prints a command's result: one JSON line, its `text_key` value alone, or one "key: value" line per key."""
    if as_json:
        print(json.dumps(result, ensure_ascii=False))
    elif text_key:
        print(result[text_key])
    else:
        for key, value in result.items():
            print(f"{key}: {value}")


def _train(args, argv: list[str]) -> dict:
    """Trains what `train` names: the tokenizer, one target's model, or (`all`) the tokenizer then every target."""
    command = "python -m rnn_demo " + " ".join(shlex.quote(a) for a in argv)
    tokenizer_path = args.tokenizer or args.out / TOKENIZER_FILE
    if args.counts_only:
        return _add_counts(args, tokenizer_path, command)
    result = {}
    if args.what in (TOKENIZER, ALL):
        result[TOKENIZER] = _train_tokenizer(args, tokenizer_path)
    targets = {ALL: registry.targets(), TOKENIZER: ()}.get(args.what, (args.what,))
    for target in targets:
        # --name names the first checkpoint trained: the target's, or with `all` the first target's.
        name = args.name if target == targets[0] else None
        result.update(_train_target(target, args, tokenizer_path, command, name=name))
    return result


def _add_counts(args, tokenizer_path: Path, command: str) -> dict:
    """`train blank --counts-only`: the counts added to the trained gap filler (`training.fill`)."""
    from .tokenizer import Tokenizer
    from .training.fill import add_counts_to_checkpoint

    if args.what != "blank":
        raise UsageError("--counts-only applies to the gap filler (train blank) only")
    directory = args.out / (args.name or registry.FILL_MODEL)
    meta = add_counts_to_checkpoint(directory, Tokenizer(tokenizer_path), command)
    return {"blank": {"path": str(directory), "metrics": meta["metrics"]}}


def _train_tokenizer(args, tokenizer_path: Path) -> dict:
    """Trains the shared tokenizer from the flags (`--quick`: a small one); returns where it went and its sha256."""
    from .tokenizer import train_tokenizer

    config = _dataclass_from_flags(args, TokenizerConfig, TokenizerConfig())
    if args.quick:
        config = replace(config, vocab_size=min(config.vocab_size, QUICK_VOCAB_SIZE),
                         max_sentences=QUICK_TOKENIZER_SENTENCES)
    tokenizer = train_tokenizer(tokenizer_path, config)
    return {"path": str(tokenizer_path), "sha256": tokenizer.sha256, "vocab_size": tokenizer.vocab_size}


def _train_target(target: str, args, tokenizer_path: Path, command: str, *, name: str | None) -> dict:
    """Trains one target's model: its recipe's defaults, then the flags, then `--quick`.

    Args:
        target: a `train` target of the registry.
        args: the parsed flags.
        tokenizer_path: the shared tokenizer the model is trained for.
        command: the command line, recorded in config.json.
        name: the checkpoint's name; None: the recipe's default for the model config.
    Returns:
        {key: where the checkpoint went and its metrics}; the key is the checkpoint's name when the
        target makes several models (told apart by flags), else the target.
    """
    from .tokenizer import Tokenizer
    from .training.recipe import recipe_for
    from .training.run import Run

    recipe = recipe_for(target)
    model_config, train_config = train_configs(recipe, args)
    if train_config.sampled_words and recipe.family != "gap_words":  # else it would be ignored without a word
        raise UsageError("--sampled-words trains the gap filler (blank) only")
    if train_config.window_state != "zero" and recipe.family != "language_model":
        raise UsageError("--window-state trains the language models (shakespeare) only")
    if train_config.window_state != "zero" and train_config.strategy:
        raise UsageError("--window-state carried trains in one process: it cannot be combined with --strategy")
    name = name or recipe.default_name(model_config)
    worker = _start_strategy(train_config, recipe)
    if worker:  # not the chief: it trains in step with the chief, and its copy of the checkpoint is not kept
        name = f"{name}-worker-{worker}"
    # A quick run keeps its log beside its checkpoint (tests' temporary folders), not in ./runs.
    run_dir = RUNS / name if not args.quick else args.out / f".{name}-run"
    run = Run(tokenizer=Tokenizer(tokenizer_path), out_dir=args.out, name=name, run_dir=run_dir, quick=args.quick,
              command=command)
    meta = recipe.train(model_config, train_config, run)
    if worker:
        shutil.rmtree(run.directory)
        return {f"worker-{worker}": {"path": None, "metrics": meta["metrics"]}}
    key = name if len(registry.names(target=target)) > 1 else target
    return {key: {"path": str(run.directory), "metrics": meta["metrics"]}}


def _start_strategy(train_config: TrainingConfig, recipe) -> int:
    """Creates the `--strategy` of tf.distribute before any TensorFlow operation runs (multi-worker training
    configures its collective operations at the start); returns this process's worker number (0: the chief,
    or no strategy)."""
    if not train_config.strategy:
        return 0
    if recipe.family != "language_model":
        raise UsageError("--strategy trains the language models (shakespeare) only")
    from .training import distributed

    distributed.strategy(train_config.strategy)
    return distributed.worker_index()


def _engine(assets: Path):
    """The serving engine of the checkpoints in `assets`."""
    from .serving import Engine

    return Engine(assets)


def _evaluate(args) -> dict:
    """The held-out metrics of the target's served model, as its recipe measures them."""
    from .training.recipe import recipe_for

    recipe = recipe_for(args.what)
    options = {}
    if args.dynamic_lr is not None:
        if args.what != "shakespeare":
            raise UsageError("--dynamic-lr applies to `evaluate shakespeare` only (the language models)")
        options["dynamic_lr"] = args.dynamic_lr
    return recipe.evaluate(_engine(args.assets), model=args.model, text=args.text, **options)


def _generate(args) -> dict:
    """Generates once from the prompt; returns the text and the speed of the decoding alone (after loading)."""
    from .serving import GenerationRequest

    if args.model.endswith(".zip"):  # a model downloaded from the Train tab (or written by `train text`)
        from .usertrain.cli import generate

        return generate(Path(args.model), prompt=args.prompt, max_tokens=args.max_tokens,
                        temperature=args.temperature, seed=args.seed)
    engine = _engine(args.assets)
    request = GenerationRequest(prompt=args.prompt, model=args.model, max_tokens=args.max_tokens,
                                temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
                                repetition_penalty=args.repetition_penalty, seed=args.seed)
    request = engine.check(request)
    engine.language_model(request.model)  # load before the clock starts
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
    """Prints the chatbot's reply to the message, or to each line of --input-file."""
    from .serving import ChatRequest

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
    """Prints the ranked fillers of the sentence's gap, or of each line of --input-file."""
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


def train_configs(recipe, args) -> tuple:
    """(model config, training config) of a `train` command: the recipe's defaults, then the flags, then `--quick`."""
    model_config = _dataclass_from_flags(args, recipe.config_class, recipe.model_defaults())
    train_config = _dataclass_from_flags(args, TrainingConfig, recipe.training)
    if args.quick:
        model_config, train_config = recipe.quick(model_config, train_config)
    return model_config, train_config


def parse(argv: list[str]) -> argparse.Namespace:
    """The flags of a command line (without `python -m rnn_demo`), as `main` reads them."""
    return _build_parser().parse_args(argv)


def main(argv=None) -> int:
    """Runs one command; returns the exit status (2 for bad input, with a one-line message on stderr)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:2] == ["train", TEXT]:
        from .usertrain.cli import train_main

        return train_main(argv[2:])
    args = parse(argv)
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
        elif args.command == "convert-weights":
            _emit(_convert_weights(args), args.json)
        elif args.command == "export":
            _emit(_export(args), args.json)
    except (UsageError, InputError, CheckpointError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
