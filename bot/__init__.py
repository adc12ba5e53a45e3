"""Vigie: social-media monitoring turned into a disciplined response, inside Slack.

Here: the composition root (app, runtime, http, cli, scheduler) and infrastructure (config, clock, logs,
metrics, i18n); the role folders below it never import app, http, cli or scheduler (pyproject's contracts).
"""

__version__ = "0.1.0"
