"""The assistant: dialogue runtime, channels (Telegram, web chat, terminal), hand-off, scheduler and
the `jianpei` command line. Talks to the backend only through actions/."""
