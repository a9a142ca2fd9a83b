"""Data from installed packages: corpora, chat exchanges, fill sentences, the plays' quote index, encodings, tf.data pipelines."""
