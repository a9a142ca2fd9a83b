"""Training runs: language models on any text, the seq2seq trainer, callbacks."""
