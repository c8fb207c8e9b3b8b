"""Answers: evidence units, the selector's and abstainer's features, and the answer itself."""
