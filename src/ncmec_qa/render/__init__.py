"""Rendering: terminal and Markdown output, citation formats (BibTeX, CSL-JSON, RIS, APA, Chicago), and links."""
