"""ncmec-qa: answers about NCMEC's CyberTipline from a curated corpus, only in cited, verbatim quotes."""

__version__ = "0.1.0"
