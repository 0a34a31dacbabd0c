"""The command modules of the CLI, one per top-level command: ``recoup X`` is ``recoup.commands.X``
(a group exports ``app``, its ``typer.Typer``; a single command is a function), with what they share in
:mod:`recoup.commands.base`. :mod:`recoup.cli` mounts them all; they parse, call the service, print."""
