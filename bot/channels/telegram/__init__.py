"""The Telegram channel (aiogram 3 as the transport): webhook and long polling in, a durable inbox,
answers out as Telegram messages through one paced sender."""
