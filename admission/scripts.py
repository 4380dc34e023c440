"""The sale's Lua scripts, read from scripts/*.lua and registered on a Redis client."""

from dataclasses import dataclass, fields
from pathlib import Path

import redis
from flask import current_app
from redis.commands.core import Script
from redis.exceptions import NoScriptError

FOLDER = Path(__file__).parent / "scripts"
# Scripts that start with the shared reservation rule.
WITH_RESERVE_CORE = ("reserve", "reserve_batch", "recheck")


@dataclass(frozen=True)
class Scripts:
    """One registered script per .lua file (reserve_core.lua is a part, not a script)."""

    join: Script
    status: Script
    arm: Script
    open: Script
    transition: Script
    close: Script
    expire: Script
    evict: Script
    sold_out: Script
    admit: Script
    reserve: Script
    reserve_batch: Script
    recheck: Script
    release: Script
    confirm: Script
    settle: Script
    lease: Script
    take: Script


def source(name: str) -> str:
    """The text of script `name`, with the shared reservation rule put first where it is used."""
    text = (FOLDER / f"{name}.lua").read_text()
    if name in WITH_RESERVE_CORE:
        text = (FOLDER / "reserve_core.lua").read_text() + "\n" + text
    return text


def load_scripts(client: redis.Redis) -> Scripts:
    """Register every script on `client` (EVALSHA, falling back to EVAL once after a server restart)."""
    return Scripts(**{field.name: client.register_script(source(field.name)) for field in fields(Scripts)})


def in_one_trip(client: redis.Redis, steps: list[tuple]) -> list:
    """The answers to `steps`, sent in one round trip (a pipeline, not a transaction).

    A step is a command, ("EXISTS", key), or a script, (script, keys, args), sent as a bare EVALSHA:
    redis-py's own scripts in a pipeline ask SCRIPT EXISTS first, a second trip every time. If the server
    has lost a script (a restart), it is loaded and the steps are sent again: each must be safe to repeat.
    """
    for attempt in range(2):
        pipe = client.pipeline(transaction=False)
        for step in steps:
            if isinstance(step[0], Script):
                script, keys, args = step
                pipe.evalsha(script.sha, len(keys), *keys, *args)
            else:
                pipe.execute_command(*step)
        try:
            return pipe.execute()
        except NoScriptError:
            if attempt:
                raise
            for step in steps:
                if isinstance(step[0], Script):
                    step[0].sha = client.script_load(step[0].script)
    raise AssertionError("unreachable")


def scripts() -> Scripts:
    """The current app's scripts."""
    return current_app.extensions["admission"]["scripts"]
