"""The guard around every event handler: our messages reach the user as they are, anything else is logged."""
from __future__ import annotations

import functools
import inspect
import logging
from contextlib import contextmanager

import gradio as gr

from ..checkpoints import CheckpointError
from ..config import InputError
from .language import of as language_of
from .text import ENGLISH, say, translated

log = logging.getLogger(__name__)

INTERNAL_ERROR = say("error.internal", ENGLISH)
# What a user can fix or must be told as it is: bad input, a damaged or missing checkpoint or tokenizer.
USER_ERRORS = (InputError, CheckpointError, FileNotFoundError)

# The API events run with preprocess=False: the engine checks every raw value and names the
# argument, where the components' own checks would say only "Value 9 is greater than maximum
# value 2" or round a seed of 2.5 to 2 without a word. The browser still enforces each range.
RAW_VALUES = dict(preprocess=False)


def user_error(error: Exception, language: str = ENGLISH) -> gr.Error:
    """A pop-up that shows `error`'s own message in `language`, with no traceback in the server log.
    (Gradio's frontend does not translate pop-ups: the server writes them in the visitor's language.)"""
    return gr.Error(translated(str(error), language), print_exception=False)


@contextmanager
def shown_to_user(language: str = ENGLISH):
    """Turns a `USER_ERRORS` error raised inside the block into a pop-up with its message, in `language`."""
    try:
        yield
    except USER_ERRORS as error:
        raise user_error(error, language) from None


@contextmanager
def internal_errors_reported(name: str, language: str = ENGLISH):
    """Logs an unexpected exception with its traceback and replaces it with INTERNAL_ERROR (in
    `language`) for the user: its text may show paths or internals, and without a message of ours
    Gradio shows a bare "Error". Our own messages (gr.Error) pass as they are.

    Args:
        name: the handler's name, for the log.
        language: the visitor's.
    """
    try:
        yield
    except gr.Error:
        raise
    except Exception as error:  # not hidden: logged in full here
        log.exception("%s failed", name)
        raise gr.Error(say("error.internal", language), print_exception=False) from error


def guarded(handler):
    """`handler` (a function or a generator function) under `internal_errors_reported`.

    Args:
        handler: an event handler.

    Returns:
        A handler of the same kind and name, whose unexpected errors reach the user as INTERNAL_ERROR,
        in the language of the visitor whose `gr.Request` is among its arguments (English without one).
    """
    if inspect.isgeneratorfunction(handler):
        @functools.wraps(handler)
        def guarded_stream(*args):
            with internal_errors_reported(handler.__name__, request_language(args)):
                yield from handler(*args)
        return guarded_stream

    @functools.wraps(handler)
    def guarded_call(*args):
        with internal_errors_reported(handler.__name__, request_language(args)):
            return handler(*args)
    return guarded_call


def request_language(args) -> str:
    """The visitor's language, from the `gr.Request` among a handler's arguments (English if none)."""
    return language_of(next((arg for arg in args if isinstance(arg, gr.Request)), None))
