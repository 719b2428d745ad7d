"""`python -m evidex …` runs the `evidex` command line."""

from .cli import app

app(prog_name="evidex")
