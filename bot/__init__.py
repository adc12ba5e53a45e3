"""Vigie: social-media monitoring turned into a disciplined response, inside Slack."""

__version__ = "0.1.0"
