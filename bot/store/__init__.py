"""Storage: the models, the named queries, locks, stories, the audit trail, delivery keys, migrations.
May import bot.domain (and bot.i18n for a refusal's sentence); never use cases, Slack, the outbox or handlers."""
