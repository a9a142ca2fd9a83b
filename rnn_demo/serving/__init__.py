"""Serving: the load-once engine, request checks, generation, chat and fill."""
from .engine import (ChatReply, ChatRequest, Engine, FillRequest, FillResult, GenerationChunk, GenerationRequest,
                     GenerationResult, rank_fill)

__all__ = ["ChatReply", "ChatRequest", "Engine", "FillRequest", "FillResult", "GenerationChunk", "GenerationRequest",
           "GenerationResult", "rank_fill"]
