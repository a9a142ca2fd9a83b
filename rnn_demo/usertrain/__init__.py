"""Training a small language model on a visitor's own text: settings, tokenizer choice, model, trainer, archive."""
