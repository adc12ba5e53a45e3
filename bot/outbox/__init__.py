"""Durable Slack calls: queue.py writes and reads the outbox rows (use cases call `enqueue`), worker.py sends
them. May import bot.store, bot.slack, bot.i18n, bot.clock; never the use cases: their renderers are injected."""
