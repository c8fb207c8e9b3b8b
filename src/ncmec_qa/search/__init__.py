"""Search: what a question says, the features the rankers read, and hybrid retrieval."""
