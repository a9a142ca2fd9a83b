"""Speed, start-up, load and training-throughput benchmarks (run with `python benchmarks/run.py`)."""
