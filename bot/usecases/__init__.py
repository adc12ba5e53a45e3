"""Use cases: what people and the scheduler do (intake, response, publication, escalation, crisis, slash), one transaction each.
May import bot.domain, bot.protocol, bot.store, bot.outbox, bot.slack (and bot.i18n, bot.clock); never app, http, cli or handlers."""
