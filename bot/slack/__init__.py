"""Slack-shaped code: gateway.py (the only Slack client, uploads included), verify.py, ids.py, text.py, views/.
May import bot.domain, bot.i18n, the protocol's types and bot.edge; never bot.store."""
