"""Training: language models on any text, the one seq2seq trainer, callbacks, and one recipe per `train` target."""
