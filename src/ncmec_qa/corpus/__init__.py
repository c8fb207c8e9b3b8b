"""The corpus: the manifest and its schema, curation (add, remove, check), sync, and editions in force."""
