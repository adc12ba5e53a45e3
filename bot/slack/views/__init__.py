"""Pure views: data and a language in, Block Kit blocks (or the chart's PNG) out; no SQL, no Slack call.
May import bot.domain, bot.i18n, bot.slack.text/ids and bot.reports' frozen dataclasses; never bot.store."""
