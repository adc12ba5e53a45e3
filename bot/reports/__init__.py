"""Read models: SQL aggregates in, frozen dataclasses out (digest.py: the digest's figures; home.py: a Home tab).
May import bot.store, bot.domain and the protocol's types; never bot.slack, bot.usecases or the app."""
