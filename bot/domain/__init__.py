"""The rules, as pure functions and frozen data: triage, workflow and permissions, SLAs and ladders, on-call, checks.
Imports nothing outside bot/domain (no store, no Slack, no protocol file, no clock): plain data in, decisions out."""
