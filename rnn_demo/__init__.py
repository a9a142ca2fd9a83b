"""RNN Playground: recurrent neural networks writing text, on a CPU."""
