"""The protocol file: its pydantic models (schema.py, timing.py, fields.py), its problems as sentences (errors.py),
and reading it into domain data (load.py). May import bot/domain, bot/slack/ids and bot/i18n; never store/usecases."""
