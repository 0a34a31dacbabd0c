"""`recoup serve`: the EasyPost webhook receiver."""

from __future__ import annotations

from pathlib import Path

import typer

from recoup.commands.base import ctx_of, fail, guarded
from recoup.output import stderr


def read_secret_file(path: Path) -> str:
    """The webhook secret from a file (first line, surrounding whitespace stripped); one-line errors."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as e:
        fail(f"--secret-file {path}: cannot read it: {type(e).__name__}: {getattr(e, 'strerror', None) or e}", 2)
    secret = (text.splitlines() or [""])[0].strip()
    if not secret:
        fail(f"--secret-file {path}: the file is empty", 2)
    return secret


@guarded
def serve(ctx: typer.Context, host: str = typer.Option("127.0.0.1", "--host", help="Bind address (loopback by default)."),
          port: int = typer.Option(8080, "--port"),
          secret_file: Path | None = typer.Option(None, "--secret-file",
                                                  help="File holding the EasyPost webhook secret (else RECOUP_WEBHOOK_SECRET)."),
          secret: str | None = typer.Option(None, "--secret", hidden=True,
                                            help="Refused: a secret on the command line shows in `ps`."),
          max_body: int = typer.Option(5 * 1024 * 1024, "--max-body", help="Largest body accepted, in bytes (413 above)."),
          workers: int = typer.Option(8, "--workers", min=1, max=256, help="Threads that verify and store events."),
          max_connections: int = typer.Option(1000, "--max-connections", min=1,
                                              help="Connections served at once (503 above)."),
          header_timeout: float = typer.Option(10.0, "--header-timeout", min=0.1, help="Seconds for the request headers."),
          body_timeout: float = typer.Option(30.0, "--body-timeout", min=0.1, help="Seconds for the request body.")) -> None:
    """Receive EasyPost tracker.updated webhooks (HMAC-verified) and store their scans.

    The secret comes from RECOUP_WEBHOOK_SECRET or --secret-file, never from a command-line value."""
    import os

    from recoup.webhooks import Limits, make_server

    if secret is not None:
        fail("--secret is no longer accepted (a command-line value shows in `ps`): "
             "set RECOUP_WEBHOOK_SECRET or use --secret-file PATH", 2)
    value = read_secret_file(secret_file) if secret_file is not None else os.environ.get("RECOUP_WEBHOOK_SECRET", "")
    if not value:
        fail("set RECOUP_WEBHOOK_SECRET or use --secret-file PATH: unsigned webhooks are never accepted", 2)
    c = ctx_of(ctx)
    contracts = c.contracts() if c.settings.contracts_dir().is_dir() else None
    limits = Limits(max_body=max_body, workers=workers, max_connections=max_connections,
                    header_timeout_s=header_timeout, body_timeout_s=body_timeout)
    try:
        srv = make_server(c.engine(), value, contracts, host=host, port=port, limits=limits)
    except OSError as e:
        fail(f"cannot listen on {host}:{port}: {e.strerror or e}")
    from recoup.worker import logs

    stderr().print(f"recoup serve listening on {srv.url}/webhooks/easypost", markup=False)
    handler = logs.setup(c.settings)  # RECOUP_LOG_LEVEL; secrets and URL passwords masked
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()
        logs.teardown(handler)
