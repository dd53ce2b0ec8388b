"""vlmeval: reproduce the benchmark numbers of vision-language model reports."""

__version__ = "0.1.0"
