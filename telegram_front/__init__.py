"""Telegram front of the assistant (python-telegram-bot 22, async).

It relays private text messages to Rasa's REST channel under a pseudonymous sender
id and renders what Rasa returns. Start it with ``python -m telegram_front``.
"""
