"""`python -m ncmec_qa …` runs the command line."""

from ncmec_qa.cli import main

main()
