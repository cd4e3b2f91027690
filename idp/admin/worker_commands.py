"""`idp worker` (deliver queued emails and SMS, run the lifecycle now and then) and
`idp lifecycle run` (one pass, for cron). Attached to the `idp` group in idp/cli.py;
--json prints machine-readable output."""
from __future__ import annotations

import click
from flask import current_app

from .. import metrics
from ..cli_helpers import app_context, commit, emit, fail
from ..lifecycle import run_lifecycle
from ..notify.delivery import deliver_due
from ..ops.logs import configure_logging
from ..worker import run_forever


@click.command("worker")
@click.option("--once", is_flag=True, help="One delivery pass, then exit (tests, cron).")
@click.option("--lifecycle/--no-lifecycle", default=True,
              help="Also run the lifecycle every WORKER_LIFECYCLE_MINUTES.")
@click.option("--channel", "channels", multiple=True,
              type=click.Choice(["email", "sms", "logout"]),
              help="With --once: only these outbox channels (logout: back-channel notices).")
@click.option("--json", "as_json", is_flag=True)
def worker(once, lifecycle, channels, as_json):
    """Deliver queued emails, SMS and back-channel logout notices with retries (runs
    until stopped)."""
    with app_context():
        config = current_app.config
        if once:
            # Its counters join the web's at /metrics through METRICS_DIR, in a slot's
            # files that the next one-shot run counts on from (metrics.enable_one_shot).
            try:
                metrics.enable_one_shot(config["METRICS_DIR"])
            except RuntimeError as exc:
                fail(str(exc))
            report = deliver_due(channels=list(channels) or None)
            emit(report.as_dict(), as_json,
                 f"{report.sent} sent, {report.retried} to retry, {report.failed} failed")
            return
        # Its counters (back-channel logouts...) join the web's at /metrics when both run
        # on this machine with the same METRICS_DIR; its log lines are JSON like theirs.
        try:
            metrics.enable_multiprocess(config["METRICS_DIR"])
        except RuntimeError as exc:
            fail(str(exc))
        metrics.clear_dead_files(config["METRICS_DIR"])
        configure_logging(config["LOG_LEVEL"], bool(config["LOG_JSON"]))
        click.echo(f"worker: email via {config['EMAIL_BACKEND']}, polling every "
                   f"{config['WORKER_POLL_SECONDS']} s")
        minutes = float(config["WORKER_LIFECYCLE_MINUTES"]) if lifecycle else 0
        try:
            run_forever(float(config["WORKER_POLL_SECONDS"]), minutes, echo=click.echo)
        except KeyboardInterrupt:
            pass


@click.group()
def lifecycle():
    """Reminders, deactivation and deletion of never-activated accounts."""


@lifecycle.command("run")
@click.option("--json", "as_json", is_flag=True)
def lifecycle_run(as_json):
    """One idempotent pass (for cron): remind, deactivate, delete."""
    with app_context():
        summary = run_lifecycle()
        commit()
        emit(summary, as_json, ", ".join(f"{k}: {v}" for k, v in summary.items()))
