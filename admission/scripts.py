"""The sale's Lua scripts, read from scripts/*.lua and registered on a Redis client."""

from dataclasses import dataclass, fields
from pathlib import Path

import redis
from flask import current_app
from redis.commands.core import Script

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


def scripts() -> Scripts:
    """The current app's scripts."""
    return current_app.extensions["admission"]["scripts"]
