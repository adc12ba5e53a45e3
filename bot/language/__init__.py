"""Outside language tools Vigie talks to across a process or network boundary (Grammalecte, LanguageTool).

May import the standard library, httpx and bot.domain only; the tools themselves never enter Vigie's process.
"""
