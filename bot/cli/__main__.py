"""`python -m bot.cli` runs the same command line as `jianpei`."""

from bot.cli import main

main()
