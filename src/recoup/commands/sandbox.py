"""`recoup sandbox`: the sandbox carrier server, a test and demo double."""

from __future__ import annotations

import typer

from recoup.commands.base import guarded


@guarded
def sandbox(port: int = typer.Option(8765, "--port", help="Port on 127.0.0.1 (0: any free port)."),
            faults: str = typer.Option("", "--faults", help='e.g. "429=0.2,500=0.1,timeout=0.05,reject=0.1,partial=0.1,seed=7"'),
            api_key: str | None = typer.Option(None, "--api-key", help="Demand this API key (default: any key)."),
            hold: float | None = typer.Option(None, "--hold", help="Seconds a timeout fault holds (default 30).")) -> None:
    """The sandbox carrier server (EasyPost-style claims API with fault injection) on 127.0.0.1."""
    from recoup.sandbox import serve

    serve(port, faults, api_key=api_key, hold_s=hold)
