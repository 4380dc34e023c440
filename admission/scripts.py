"""The sale's Lua scripts, read from scripts/*.lua and registered on a Redis client.

Each file's header is the one declaration of what it touches and answers:
  -- KEYS: settings, stock, ...      the sale keys (SaleKeys fields) it takes, in KEYS order
  -- REPLY: code, units, stock_left  the names of a multi-value reply's fields, in order
  -- REPLY: [ticket, shopper, ...]   a flat list of such groups, one group per item
The Python side builds KEYS and unpacks replies from those lines, so nothing keeps a positional list
beside the script. A header line may go on over the next lines that start with `--` and two spaces.
"""

import re
from collections import namedtuple
from dataclasses import dataclass, fields
from pathlib import Path

import redis
from flask import current_app
from redis.cluster import RedisCluster
from redis.commands.core import Script
from redis.exceptions import NoScriptError

from admission.keys import sale_keys
from yakku.extensions import get_sales_redis

FOLDER = Path(__file__).parent / "scripts"
# Scripts that start with the shared reservation rule (and take its KEYS).
WITH_RESERVE_CORE = ("reserve", "reserve_batch", "recheck")
# Scripts whose one key belongs to no sale (the admitter's lease, the front door's clock): registered on
# the plain Redis (plain_script), never among a sale's.
WITHOUT_SALE_KEYS = ("lease", "front_door")
_HEADER = re.compile(r"^-- (KEYS|REPLY): (.*(?:\n--   +.*)*)", re.MULTILINE)


def header(text: str) -> dict[str, str]:
    """The script's KEYS and REPLY header lines, each joined into one string."""
    return {
        name: " ".join(part.strip("- ") for part in value.split("\n"))
        for name, value in _HEADER.findall(text)
    }


def _names(line: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in line.strip("[] ").split(",") if name.strip())


@dataclass
class SaleScript:
    """A registered script with its KEYS and reply named by its header."""

    name: str
    script: Script
    keys: tuple[str, ...]
    reply: type | None = None  # a namedtuple of the reply's fields, when it has a REPLY line
    repeated: bool = False  # the reply is a flat list of `reply` groups

    def __call__(self, sale_id: int, args: list | tuple = (), client: redis.Redis | None = None):
        """Run it on sale `sale_id`'s keys; the reply unpacked by name."""
        raw = self.script(keys=self.bind(sale_id), args=list(args), client=client or get_sales_redis())
        return self.unpack(raw)

    def bind(self, sale_id: int) -> list[str]:
        """The KEYS of this script for one sale."""
        return sale_keys(sale_id).pick(*self.keys)

    def step(self, sale_id: int, args: list | tuple) -> tuple:
        """This script as one step of in_one_trip."""
        return (self, self.bind(sale_id), list(args))

    def unpack(self, raw):
        """A raw reply as the header names it (a short reply leaves its last fields None)."""
        if self.reply is None:
            return raw
        width = len(self.reply._fields)
        if self.repeated:
            return [self.reply(*raw[i : i + width]) for i in range(0, len(raw), width)]
        return self.reply(*raw)


@dataclass(frozen=True)
class Scripts:
    """One registered script per .lua file, on the sales Redis (reserve_core.lua is a part, not a script;
    lease.lua is the admitter's, on the plain Redis: lease_script)."""

    join: SaleScript
    status: SaleScript
    arm: SaleScript
    open: SaleScript
    transition: SaleScript
    close: SaleScript
    expire: SaleScript
    evict: SaleScript
    sold_out: SaleScript
    admit: SaleScript
    reserve: SaleScript
    reserve_batch: SaleScript
    recheck: SaleScript
    release: SaleScript
    confirm: SaleScript
    settle: SaleScript
    clock: SaleScript
    take: SaleScript
    submit: SaleScript
    advance: SaleScript
    restore: SaleScript
    recount: SaleScript
    extend: SaleScript
    put_back: SaleScript


def source(name: str) -> str:
    """The text of script `name`, with the shared reservation rule put first where it is used."""
    text = (FOLDER / f"{name}.lua").read_text()
    if name in WITH_RESERVE_CORE:
        text = (FOLDER / "reserve_core.lua").read_text() + "\n" + text
    return text


def load_script(client: redis.Redis, name: str) -> SaleScript:
    """Register one script on `client`, its KEYS and reply read from its header."""
    text = source(name)
    lines = header(text)
    if "KEYS" not in lines:
        raise ValueError(f"{name}.lua has no -- KEYS: header")
    reply, repeated = None, False
    if "REPLY" in lines:
        names = _names(lines["REPLY"])
        reply = namedtuple(f"{name.title().replace('_', '')}Reply", names, defaults=(None,) * len(names))
        repeated = lines["REPLY"].lstrip().startswith("[")
    return SaleScript(name, client.register_script(text), _names(lines["KEYS"]), reply, repeated)


def load_scripts(client: redis.Redis | RedisCluster) -> Scripts:
    """Register every sale script on `client` (EVALSHA, falling back to EVAL once after a server
    restart). On a cluster EVALSHA goes to the node of its first key: every script's KEYS are one sale's,
    which share that sale's hash tag, so one node holds them all."""
    return Scripts(**{field.name: load_script(client, field.name) for field in fields(Scripts)})


def in_one_trip(client: redis.Redis | RedisCluster, steps: list[tuple]) -> list:
    """The answers to `steps`, sent in one round trip (a pipeline, not a transaction).

    A step is a command, ("EXISTS", key), or a script's step (SaleScript.step), sent as a bare EVALSHA:
    redis-py's own scripts in a pipeline ask SCRIPT EXISTS first, a second trip every time. If the server
    has lost a script (a restart), it is loaded and the steps are sent again: each must be safe to repeat.
    A script's answer comes back unpacked by its header. On a cluster, each step goes to the node of its
    keys (steps of one sale: one node, one trip).
    """
    for attempt in range(2):
        pipe = client.pipeline(transaction=False)
        for step in steps:
            if isinstance(step[0], SaleScript):
                loaded, keys, args = step
                # By name: redis-py's cluster pipeline refuses its evalsha() method, not the command.
                pipe.execute_command("EVALSHA", loaded.script.sha, len(keys), *keys, *args)
            else:
                pipe.execute_command(*step)
        try:
            answers = pipe.execute()
        except NoScriptError:
            if attempt:
                raise
            for step in steps:
                if isinstance(step[0], SaleScript):
                    step[0].script.sha = client.script_load(step[0].script.script)
            continue
        return [
            step[0].unpack(answer) if isinstance(step[0], SaleScript) else answer
            for step, answer in zip(steps, answers, strict=True)
        ]
    raise AssertionError("unreachable")


def load_plain_scripts(client: redis.Redis) -> dict[str, Script]:
    """Register the scripts whose one key is no sale's (WITHOUT_SALE_KEYS) on `client`, the plain Redis."""
    return {name: client.register_script(source(name)) for name in WITHOUT_SALE_KEYS}


def scripts() -> Scripts:
    """The current app's sale scripts, on its sales Redis."""
    return current_app.extensions["yakku.admission"]["scripts"]


def plain_script(name: str) -> Script:
    """One of the current app's scripts on its plain Redis: call it with (keys, args, client)."""
    return current_app.extensions["yakku.admission"]["plain"][name]


def lease_script() -> Script:
    """The admitter's lease script, on the plain Redis."""
    return plain_script("lease")
