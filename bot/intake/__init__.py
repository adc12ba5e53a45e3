"""Pure parsers of what arrives from outside: the intake API's body, RSS/Atom feeds, vendor export files.

May import the standard library, parsing libraries and bot.i18n for error sentences; never storage or Slack.
"""
