"""The load-once engine: the tokenizer and models of one process, shared by every user (thread-safe)."""
from __future__ import annotations

import logging
import os
import threading
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from .. import checkpoints
from ..config import LIMITS, Limits
from ..data import quotes
from ..decoding import StopReason
from ..models import registry
from ..tokenizer import Tokenizer
from . import chat, fill, generation, inspection
from .batching import BatchDecoder
from .chat import ChatReply
from .fill import FillResult
from .generation import TOP_PROBABILITIES, GenerationChunk, GenerationResult
from .requests import (ChatRequest, FillRequest, GenerationRequest, check, check_chat, check_fill, check_generation,
                       check_language_model)

log = logging.getLogger(__name__)

TOKENIZER_FILE = "tokenizer.model"
TOKENIZER_COMMAND = "python -m rnn_demo train tokenizer"
CORES = 2  # what a compiled sampler may use while its request runs alone; one each when several run
# Streams the batched decoder cannot serve (top-k, top-p, repetition penalty) each run the NumPy step on
# their own thread: at most one per core at a time, whatever the page's stream slots allow.
SOLO_STREAMS = 2


@dataclass
class LoadedModel:
    """One registry model as the engine serves it."""

    checkpoint: checkpoints.Checkpoint
    numpy_model: object  # NumpyLanguageModel or NumpySeq2Seq: the NumPy step that serves
    sampler: object | None = None  # a language model's CompiledSampler, where Numba runs
    # Draws with `sampler` for every stream of this model at once (`batching`); made from `sampler`.
    decoder: BatchDecoder | None = None

    def __post_init__(self):
        if self.decoder is None and self.sampler is not None:
            self.decoder = BatchDecoder(self.sampler, threads=CORES)

    @property
    def model(self):
        """The Keras model (the reference, built on first use: it imports TensorFlow, which serving never
        does; the serving path is `numpy_model`)."""
        return self.checkpoint.model


CACHE_VARIABLE = "RNN_DEMO_CACHE_DIR"


def default_cache_dir(environ=os.environ) -> Path:
    """$RNN_DEMO_CACHE_DIR, else rnn-demo in $XDG_CACHE_HOME (~/.cache when unset): where the app keeps what it
    builds from installed data between starts. Nothing there is required: a missing or read-only folder only
    means building again."""
    if environ.get(CACHE_VARIABLE):
        return Path(environ[CACHE_VARIABLE])
    return Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rnn-demo"


class Engine:
    """The demo's models, loaded once and shared by every user; all calls are thread-safe.

    Requests are checked by `requests`, then served by `generation`, `chat` and `fill`; the engine
    holds what they share: the tokenizer, the models, the memory of the plays, and the count of
    requests at work (which sets the cores of the compiled sampler).
    """

    def __init__(self, assets: str | Path, limits: Limits = LIMITS):
        self.assets = Path(assets)
        self.limits = limits
        self.cache_dir = default_cache_dir()  # the memory of the plays is kept there between starts
        self._lock = threading.Lock()
        self._tokenizer: Tokenizer | None = None
        self._models: dict[str, LoadedModel] = {}
        self._errors: dict[str, str] = {}  # models that failed to load, with the reason
        self._quotes_lock = threading.Lock()
        self._quotes = None  # the fill tab's memory of the training plays, built on first use
        self._working = 0  # requests being computed now (streams, chat replies, fills)
        self._working_lock = threading.Lock()
        self._baseline = inspection.LazyBaseline()  # the surprise view's trigram model, built on first use
        self._solo_streams = threading.BoundedSemaphore(SOLO_STREAMS)

    @contextmanager
    def _at_work(self):
        with self._working_lock:
            self._working += 1
        try:
            yield
        finally:
            with self._working_lock:
                self._working -= 1

    def _cores_for_one(self) -> int:
        """Cores one stream's compiled sampler may use now: all while it runs alone, else one."""
        return CORES if self._working <= 1 else 1

    @property
    def tokenizer(self) -> Tokenizer:
        """The shared tokenizer (CheckpointError, saying how to fix it, if missing or unreadable)."""
        if self._tokenizer is not None:  # no lock once loaded: a model loading elsewhere must not stall streams
            return self._tokenizer
        with self._lock:
            if self._tokenizer is None:
                try:
                    self._tokenizer = _open_tokenizer(self.assets / TOKENIZER_FILE)
                except checkpoints.CheckpointError as error:
                    raise self._public(error) from error
            return self._tokenizer

    def _load(self, name: str) -> LoadedModel:
        """A checkpoint and its NumPy model, loaded once (CheckpointError if unusable).

        A failure is remembered for `status` (so the page can say what is wrong) but not cached:
        the next request tries again, so a repaired checkpoint works without a restart.
        """
        try:
            tokenizer = self.tokenizer
            with self._lock:
                if name not in self._models:
                    self._models[name] = _serving_model(self.assets / name, tokenizer)
                    log.info("loaded %s", name)
        except checkpoints.CheckpointError as error:
            public = self._public(error)
            self._errors[name] = str(public)
            log.warning("%s: %s", name, error)
            raise public from error
        self._errors.pop(name, None)
        return self._models[name]

    def _public(self, error: checkpoints.CheckpointError) -> checkpoints.CheckpointError:
        """The error as the page and API callers see it: the assets folder named by its own name (`assets`),
        never by its absolute path. The checkpoint and tokenizer messages name files so already; this also
        covers reasons they quote from other libraries."""
        return checkpoints.CheckpointError(checkpoints.without_path(str(error), self.assets, 1))

    def language_model(self, name: str) -> LoadedModel:
        """The named language model, loaded on first use (InputError if `name` is not a language model)."""
        return self._load(check_language_model(name))

    def model(self, name: str) -> LoadedModel:
        """The registry's model `name`, loaded on first use (KeyError if the registry has none)."""
        registry.spec(name)
        return self._load(name)

    def quotations(self, left: str, right: str) -> list:
        """Spans of the training plays between the gap's neighbours (`quotes.QuoteIndex.find`)."""
        with self._quotes_lock:
            if self._quotes is None:
                try:
                    self._quotes = quotes.training_index(self.cache_dir)
                    log.info("built the memory of the training plays")
                except FileNotFoundError as error:  # the plays' package is missing: fill without the memory
                    log.warning("fill works without its memory of the plays: %s", error)
                    self._quotes = False
        return self._quotes.find(left, right) if self._quotes else []

    def load_all(self) -> dict[str, str]:
        """Loads every model and the fill tab's memory; for each model, "ready" or why it cannot load.

        The language models' compiled sampler is compiled meanwhile by another process, so that
        compiling (seconds on a fresh machine) and loading overlap."""
        from ..models import compiled_rnn

        compiled_rnn.start_precompiling()
        for name in registry.names():
            try:
                self._load(name)
            except checkpoints.CheckpointError:
                pass  # recorded by _load for `status`
        self.quotations("", "")
        return self.status()

    def status(self) -> dict[str, str]:
        """For each model, without loading any model: "ready", "loading" or why it cannot load."""
        return {name: self._state(name) for name in registry.names()}

    def _state(self, name: str) -> str:
        if name in self._models:
            return "ready"
        if name in self._errors:
            return self._errors[name]
        try:  # cheap checks only: the shared tokenizer, and whether config.json is there and reads
            _ = self.tokenizer
            checkpoints.read_meta(self.assets / name)
        except checkpoints.CheckpointError as error:
            return str(self._public(error))
        return "loading"

    def check(self, request):
        """The request (generation, chat or fill) with clean numbers, or InputError saying what is wrong."""
        return check(request, self.limits)

    def stream(self, request: GenerationRequest, *, stop: StopReason | None = None) -> Iterator[GenerationChunk]:
        """Yields the text so far after each token (held back inside an unfinished UTF-8 character).

        Args:
            request: what to generate; checked here.
            stop: if given, its `reason` is set to why the stream ended.
        """
        request = check_generation(request, self.limits)
        loaded = self.language_model(request.model)
        batched = loaded.decoder is not None and generation.batched(request)
        with self._at_work(), (nullcontext() if batched else self._solo_streams):
            yield from generation.stream(loaded, self.tokenizer, request, deadline_s=self.limits.deadline_s,
                                         threads=self._cores_for_one, stop=stop)

    def generate(self, request: GenerationRequest) -> GenerationResult:
        """Runs `stream` to the end."""
        stop = StopReason()
        return generation.run_to_end(self.stream(request, stop=stop), request.prompt, stop)

    def chat(self, request: ChatRequest) -> Iterator[ChatReply]:
        """Answers the message; yields the growing reply, the last one complete with attention."""
        with self._at_work():
            request = check_chat(request, self.limits)
            loaded = self.model(registry.CHAT_MODEL)
            yield from chat.reply(loaded, self.tokenizer, request, deadline_s=self.limits.deadline_s)

    def fill(self, request: FillRequest) -> FillResult:
        """The likeliest fillers of the one gap (`___` or `[MASK]`) in the request's sentence."""
        with self._at_work():
            request = check_fill(request, self.limits)
            left, right = fill.gap_of(request.sentence)
            loaded = self.model(registry.FILL_MODEL)
            return fill.fillers(loaded, self.tokenizer, request, left, right,
                                quotations=self.quotations(left, right)[:request.top_k])

    def lab(self, request: inspection.LabRequest) -> inspection.LabResult:
        """The decoding lab: the prompt decoded greedy, with temperature, top-k, top-p (each by `stream`, so
        each text is `/generate`'s for the same settings) and by beam search, one row each."""
        request = inspection.check_lab(request, self.limits)
        loaded = self.language_model(request.model)
        rows = [inspection.streamed_row(method, self.stream(generation_request), generation_request)
                for method, generation_request in inspection.sampled_requests(request).items()]
        with self._at_work():
            rows.append(inspection.beam_row(loaded, self.tokenizer, request, deadline_s=self.limits.deadline_s))
        return inspection.LabResult(request, rows)

    def surprise(self, request: inspection.SurpriseRequest) -> inspection.Surprise:
        """The model's bits for each piece of a text, beside the character trigram baseline's."""
        request = inspection.check_surprise(request, self.limits)
        loaded = self.language_model(request.model)
        with self._at_work():
            return inspection.surprise(loaded, self.tokenizer, request.text, self._baseline.get())

    def top_probabilities(self, logits: np.ndarray | None, k: int = TOP_PROBABILITIES) -> dict[str, float]:
        """The model's k likeliest next tokens, as {piece shown readably: probability}."""
        return generation.top_probabilities(self.tokenizer, logits, k)


def _open_tokenizer(path: Path) -> Tokenizer:
    """The shared tokenizer, or CheckpointError saying what is wrong with its file and how to fix it."""
    try:
        return Tokenizer(path)
    except FileNotFoundError as error:
        raise checkpoints.CheckpointError(str(error)) from None
    except (RuntimeError, OSError, KeyError) as error:  # SentencePiece refuses the file, or it lacks our symbols
        raise checkpoints.CheckpointError(
            f"tokenizer file {path.name} is unreadable or not this project's ({error}); restore it, or "
            f"re-create it with `{TOKENIZER_COMMAND}` and then re-train every model") from None


def _serving_model(directory: Path, tokenizer: Tokenizer) -> LoadedModel:
    """A verified checkpoint's weights, straight into its serving paths (no Keras, no TensorFlow): the
    NumPy step, and for a language model the compiled sampler."""
    from ..models.weights import WeightError

    checkpoint = checkpoints.load_checkpoint(directory, tokenizer, family=registry.spec(directory.name).family)
    language_model = checkpoint.meta["family"] == "language_model"
    try:
        numpy_model = registry.FAMILIES[checkpoint.meta["family"]].serving_model(checkpoint.model_config,
                                                                                 checkpoint.weights)
    except WeightError as error:
        raise checkpoints.unfit(checkpoint, error) from None
    checkpoint.release_weights()  # the NumPy model holds its own (float32, rearranged) copy
    if checkpoints.COUNTS_FILE in checkpoint.meta["files"]:  # the gap filler's counts (verified with the weights)
        numpy_model.counts = checkpoints.read_counts(directory, checkpoint)
    if not language_model:
        return LoadedModel(checkpoint, numpy_model)
    return LoadedModel(checkpoint, numpy_model, _compiled_sampler(numpy_model, directory.name))


def _compiled_sampler(numpy_model, name: str):
    """A language model's compiled sampler, compiled now (or read from Numba's cache), or None (the NumPy step
    serves)."""
    from ..models import compiled_rnn

    if not compiled_rnn.supports(numpy_model.config):
        return None
    try:
        sampler = compiled_rnn.CompiledSampler(numpy_model)
        sampler.warm_up()
    except Exception as error:  # Numba's errors have no common base we could name; the NumPy step still works
        log.warning("%s: the NumPy step serves; the compiled sampler failed: %s", name, error)
        return None
    log.info("%s: compiled sampler ready (%s weights)", name, "float16" if sampler.half_precision else "float32")
    return sampler
