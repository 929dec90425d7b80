"""Offline generators of knowledge/facts/ from Kratos' source: run from a checkout, never by the bot.

Not part of the wheel: the runtime (`bot`) reads only the tables these write. `python -m kbgen --help`.
"""
