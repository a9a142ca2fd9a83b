"""RNN Playground: the hosted-Space entry point. `python app.py` serves on port 7860; `--mcp` (or
GRADIO_MCP_SERVER=true) also serves /generate, /chat and /fill as MCP tools at /gradio_api/mcp/."""
import logging
import os
import sys
import threading
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Batch-1 decoding is a chain of small, memory-bound matrix-vector products: extra BLAS threads
# only fight the other requests for the two cores (measured 2.2x slower with 2 threads under load).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from rnn_demo import entry  # noqa: E402

SERVES_MCP = __name__ == "__main__" and entry.serves_mcp(sys.argv[1:], os.environ)
if __name__ == "__main__" and not SERVES_MCP:
    entry.refuse(entry.MCP_PACKAGE)  # before Gradio is imported: see rnn_demo.entry
entry.skip_stub_writing()  # Gradio's type stubs are not rewritten while it imports: see rnn_demo.entry
entry.defer(*entry.DEFERRED_PACKAGES)  # pandas loads only if something reads it: see rnn_demo.entry

from rnn_demo.serving import Engine, memory  # noqa: E402
from rnn_demo.ui import after_launch, build_demo, launch_options  # noqa: E402

ASSETS = Path(__file__).resolve().parent / "assets"

engine = Engine(ASSETS)
demo = build_demo(engine)

if __name__ == "__main__":
    entry.command_line().parse_args()  # answers --help, refuses unknown arguments
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if os.environ.get("RNN_DEMO_TRIM_MEMORY", "1") != "0":  # 0: glibc's defaults (to compare, benchmarks/soak.py)
        memory.limit_arenas()
        memory.start_trimming()
    # Load the models while the server starts, so the page is served without waiting for them.
    threading.Thread(target=engine.load_all, name="warm-up", daemon=True).start()
    demo.launch(server_name=os.environ.get("GRADIO_SERVER_NAME", "0.0.0.0"),
                server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")), prevent_thread_lock=True,
                **launch_options(mcp=SERVES_MCP))
    after_launch(demo)
    demo.block_thread()
