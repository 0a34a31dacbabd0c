"""`python -m recoup` is the `recoup` command."""

from recoup.cli import main

main()
