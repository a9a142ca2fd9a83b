"""Serving: the load-once engine, request checks, generation, chat and fill."""
from .chat import ChatReply
from .engine import Engine, LoadedModel
from .fill import FillRanking, FillResult, rank_fill
from .generation import GenerationChunk, GenerationResult
from .requests import DECODINGS, PERSONAS, ChatRequest, FillRequest, GenerationRequest

__all__ = ["DECODINGS", "PERSONAS", "ChatReply", "ChatRequest", "Engine", "FillRanking", "FillRequest", "FillResult",
           "GenerationChunk", "GenerationRequest", "GenerationResult", "LoadedModel", "rank_fill"]
