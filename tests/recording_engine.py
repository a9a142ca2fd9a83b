"""An engine for tests that records how its streams go, and can hold, slow or break them.

The browser and fault tests serve it in place of the plain `Engine` and read back what a stream did:
how many chunks it yielded, the last text, and whether it "finished", was "closed" by its consumer
or "failed". Test modules import it directly (`from recording_engine import RecordingEngine`): pytest
puts this folder on `sys.path`, as it has no `__init__.py`.
"""
import threading
import time

from rnn_demo.serving import Engine

GATE_WAIT_S = 30  # the most a stream waits at a closed gate before its first token; far above the need
FAIL_AFTER = 3  # chunks a broken stream yields before it raises


class RecordingEngine(Engine):
    """An engine whose streams count their chunks, record how they end, and can be held, slowed or broken."""

    def __init__(self, assets, chunk_delay_s: float = 0.0):
        super().__init__(assets)
        self.started = 0  # streams begun
        self.chunks = 0  # chunks yielded by the last stream
        self.tokens, self.last_text = 0, ""  # token count and text of the last chunk yielded
        self.ended = threading.Event()  # the last stream ended
        self.how = None  # how it ended: "finished", "closed" or "failed"
        self.gate = threading.Event()  # streams wait here before their first token
        self.gate.set()
        self.chunk_delay_s = chunk_delay_s  # sleep after each chunk: makes a stream last
        self.fail_seed: int | None = None  # streams of this seed raise RuntimeError after FAIL_AFTER chunks

    def stream(self, request, **kwargs):
        self.chunks, self.tokens, self.how = 0, 0, None
        self.ended.clear()
        self.started += 1
        assert self.gate.wait(GATE_WAIT_S)
        try:
            for chunk in super().stream(request, **kwargs):
                if request.seed == self.fail_seed and self.chunks >= FAIL_AFTER:
                    raise RuntimeError("secret detail: /srv/models/lm.h5 failed at 0x7f3a")
                self.chunks += 1
                self.tokens, self.last_text = chunk.tokens, chunk.text
                time.sleep(self.chunk_delay_s)
                yield chunk
            self.how = "finished"
        except GeneratorExit:
            self.how = "closed"
            raise
        except Exception:
            self.how = "failed"
            raise
        finally:
            self.ended.set()
