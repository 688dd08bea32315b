"""The command registry shared by every CLI module."""

from __future__ import annotations

import argparse
from collections.abc import Callable

Command = Callable[[argparse.Namespace], int]
AddArgs = Callable[[argparse.ArgumentParser], None]
commands: dict[str, tuple[Command, AddArgs, str]] = {}


def command(name: str, help_text: str, args: AddArgs = lambda p: None):
    def wrap(fn: Command) -> Command:
        commands[name] = (fn, args, help_text)
        return fn

    return wrap
