"""`recoup sandbox` and `recoup serve`."""

from __future__ import annotations

import typer

from recoup.cli import app, ctx_of, fail, guarded
from recoup.output import stderr


@app.command()
@guarded
def sandbox(port: int = typer.Option(8765, "--port", help="Port on 127.0.0.1 (0: any free port)."),
            faults: str = typer.Option("", "--faults", help='e.g. "429=0.2,500=0.1,timeout=0.05,reject=0.1,partial=0.1,seed=7"'),
            api_key: str | None = typer.Option(None, "--api-key", help="Demand this API key (default: any key)."),
            hold: float | None = typer.Option(None, "--hold", help="Seconds a timeout fault holds (default 30).")) -> None:
    """The sandbox carrier server (EasyPost-style claims API with fault injection) on 127.0.0.1."""
    from recoup.carriers.sandbox import serve

    serve(port, faults, api_key=api_key, hold_s=hold)


@app.command()
@guarded
def serve(ctx: typer.Context, host: str = typer.Option("127.0.0.1", "--host", help="Bind address (loopback by default)."),
          port: int = typer.Option(8080, "--port"),
          secret: str | None = typer.Option(None, "--secret", envvar="RECOUP_WEBHOOK_SECRET",
                                            help="EasyPost webhook secret (from the environment).")) -> None:
    """Receive EasyPost tracker.updated webhooks (HMAC-verified) and store their scans."""
    from recoup.clock import SYSTEM
    from recoup.webhooks import make_server

    if not secret:
        fail("set RECOUP_WEBHOOK_SECRET: unsigned webhooks are never accepted")
    c = ctx_of(ctx)
    contracts = c.contracts() if c.settings.contracts_dir().is_dir() else None
    srv = make_server(c.engine(), secret, contracts, clock=SYSTEM, host=host, port=port)
    stderr().print(f"recoup serve listening on {srv.url}/webhooks/easypost")
    try:
        srv.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()
