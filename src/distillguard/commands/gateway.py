"""`distillguard gateway`: the real-time gateway in front of a model API.

Exit codes: 0 clean shutdown, 2 bad usage or an invalid policy file.
"""

from __future__ import annotations

from pathlib import Path

import typer

from distillguard.commands._common import EXIT_BAD_INPUT, fail


def register(app: typer.Typer) -> None:
    """Add the `gateway` command to the distillguard CLI."""

    @app.command("gateway")
    def gateway(
        upstream: str = typer.Option(
            ..., "--upstream", help="Base URL of the model API, e.g. http://10.0.0.5:8000."
        ),
        policy: Path | None = typer.Option(
            None, "--policy", help="Policy YAML (default: the shipped policy)."
        ),
        state: str = typer.Option("memory://", "--state", help="memory:// or redis://host:port/db."),
        host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
        port: int = typer.Option(8080, "--port", help="Port to listen on."),
        scan: Path | None = typer.Option(
            None,
            "--scan",
            help="Scan output directory whose accounts.csv verdicts apply (reloaded on change).",
        ),
        log_dir: Path | None = typer.Option(
            None, "--log-dir", help="Write exchanges here as rotated JSON Lines that `scan` reads."
        ),
        account_header: str | None = typer.Option(
            None, "--account-header", help="Header carrying the account id (set by your auth layer)."
        ),
        dry_run: bool = typer.Option(False, "--dry-run", help="Log and count actions, enforce none."),
        fail_closed: bool = typer.Option(
            False, "--fail-closed", help="Refuse requests (503) while the state backend is unreachable."
        ),
        no_detect: bool = typer.Option(
            False, "--no-detect", help="Plain proxy: no scoring (for comparison)."
        ),
        redis_prefix: str = typer.Option("dg:", "--redis-prefix", help="Key prefix in Redis."),
        max_body_mb: float = typer.Option(32.0, "--max-body-mb", help="Largest request body accepted."),
        log_level: str = typer.Option("info", "--log-level", help="uvicorn log level."),
        access_log: bool = typer.Option(False, "--access-log", help="uvicorn access log (costs throughput)."),
    ) -> None:
        """Serve /v1/messages, /v1/chat/completions and /v1/responses, scored and forwarded upstream.

        One process per replica; run several behind a balancer with --state redis://... so they
        share state. The admin API is on when DISTILLGUARD_ADMIN_TOKEN is set; API keys are
        hashed with DISTILLGUARD_IDENTITY_KEY (set it, and share it between replicas).
        """
        import uvicorn

        from distillguard.act.app import create_app
        from distillguard.act.policy import PolicyError, load_policy

        try:
            pol = load_policy(policy)
        except (PolicyError, OSError) as exc:
            raise fail("gateway", EXIT_BAD_INPUT, str(exc)) from exc
        app = create_app(
            upstream,
            policy=pol,
            state_url=state,
            scan_dir=scan,
            log_dir=log_dir,
            account_header=account_header,
            detect=not no_detect,
            dry_run=dry_run,
            fail_mode="closed" if fail_closed else None,
            state_options={"prefix": redis_prefix},
            max_body_bytes=int(max_body_mb * 1024 * 1024),
        )
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_level=log_level,
            access_log=access_log,
            lifespan="on",
            server_header=False,
            date_header=False,
        )  # the upstream's own headers pass through
