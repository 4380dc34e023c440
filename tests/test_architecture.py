"""The code's shape: no import cycles, dependencies that point one way, and one vocabulary per state.

Read from the source with `ast`, function-local imports included, so an import moved into a function to
dodge a cycle is still seen as the cycle it is.
"""

import ast
import functools
import re
from pathlib import Path

import pytest
import redis

from admission import replies
from admission.checkout.records import CheckoutState
from admission.scripts import FOLDER, WITHOUT_SALE_KEYS, header
from admission.states import SaleState, TicketState, WaiterState

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("admission", "api", "storefront", "workers", "yakku")


@functools.cache
def modules() -> dict[str, Path]:
    """Every module of the project's packages, by dotted name."""
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports_of(name: str, known: set[str]) -> set[str]:
    """The project modules a module imports, anywhere in it (`from a import b` names a.b if b is one).

    Importing a.b.c runs the packages a and a.b first: from another top-level package, those count as
    imports too (within its own, they are already running when the module is). The project uses no
    relative imports.
    """
    found = set()
    for node in ast.walk(ast.parse(modules()[name].read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in known else node.module)
    for target in list(found):
        parts = target.split(".")
        if parts[0] != name.split(".")[0]:
            found.update(".".join(parts[:i]) for i in range(1, len(parts)))
    return {module for module in found if module in known and module != name}


def graph() -> dict[str, set[str]]:
    known = set(modules())
    return {name: imports_of(name, known) for name in known}


def cycle_in(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the modules on it, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for target in sorted(edges[module]):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[module] = 2
        return None

    for module in sorted(edges):
        if module not in state and (found := visit(module)):
            return found
    return None


def test_no_module_imports_itself_back_through_others():
    assert cycle_in(graph()) is None


def test_the_cycle_finder_finds_a_cycle():
    assert cycle_in({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle_in({"a": {"b"}, "b": set()}) is None


def test_the_sale_never_imports_the_worker_process():
    edges = graph()
    leaks = {
        module: sorted(t for t in targets if t.split(".")[0] == "workers")
        for module, targets in edges.items()
    }
    assert {
        module: targets for module, targets in leaks.items() if module.startswith("admission") and targets
    } == {}


def test_only_the_jobs_module_enqueues_a_checkout_job():
    enqueuing = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "admission").rglob("*.py")
        if ".enqueue(" in path.read_text()
    }
    assert enqueuing == {"admission/checkout/jobs.py"}


def lua_scripts() -> dict[str, str]:
    return {path.stem: path.read_text() for path in FOLDER.glob("*.lua")}


def returned_words(text: str) -> set[str]:
    """The quoted words a script returns: the first element of each returned table, or a returned string."""
    return set(re.findall(r"return\s*\{\s*'(\w+)'", text)) | set(re.findall(r"return\s*'(\w+)'", text))


@pytest.mark.parametrize("name", sorted(lua_scripts()))
def test_every_word_a_script_returns_is_a_value_of_its_enum(name):
    words = returned_words(lua_scripts()[name])
    codes = replies.REPLY_CODES.get(name)
    if codes is None:
        assert words == set(), f"{name}.lua returns words but names no enum in admission/replies.py"
    else:
        assert words <= {code.value for code in codes}, f"{name}.lua: {sorted(words)}"


# The state hashes of a sale, and the enum of the words written into each.
STATE_KEYS = {"tickets": TicketState, "waiters": WaiterState}


@pytest.mark.parametrize("name", sorted(lua_scripts()))
def test_every_state_a_script_writes_is_a_value_of_its_enum(name):
    text = lua_scripts()[name]
    keys = [
        key.strip() for key in header(lua_scripts().get("reserve_core", "") + "\n" + text)["KEYS"].split(",")
    ]
    for index, word in re.findall(r"'HSET', KEYS\[(\d+)\], [^,]+, '(\w+)'", text):
        key = keys[int(index) - 1]
        if key in STATE_KEYS:
            assert word in {state.value for state in STATE_KEYS[key]}, f"{name}.lua writes {word!r} to {key}"
    for word in re.findall(r"'HSET', KEYS\[1\], 'state', '(\w+)'", text):
        assert word in {state.value for state in SaleState}, f"{name}.lua sets the sale's state {word!r}"
    for word in re.findall(r"state [=~]= '(\w+)'", text):
        known = {s.value for s in (*TicketState, *WaiterState, *SaleState, *CheckoutState)}
        assert word in known, f"{name}.lua compares a state with {word!r}"


def test_a_lua_header_names_keys_that_exist():
    from admission.keys import SaleKeys

    names = {field for field in SaleKeys.__dataclass_fields__}
    for name, text in lua_scripts().items():
        if name in WITHOUT_SALE_KEYS:
            continue  # its one key is the admitter's lease or the front door's clock, not a sale's
        keys = [key.strip() for key in header(text).get("KEYS", "").split(",") if key.strip()]
        assert set(keys) <= names, f"{name}.lua: {sorted(set(keys) - names)}"


# Modules that name a sale's keys and still use the plain Redis, each for keys that are no sale's.
PLAIN_REDIS_BESIDE_SALE_KEYS = {
    "admission/admitter.py": "the admitter's lease and its script",
    "admission/checkout/jobs.py": "the once-a-period mark of the sweep, beside its queue",
    "admission/waiting_room.py": "a poll's token-revocation check (the jwt:* keys)",
}


def test_every_module_that_names_a_sale_key_reaches_it_through_the_sales_redis():
    # A sale's keys may live on a Redis Cluster (get_sales_redis); the plain Redis (get_redis) never
    # holds them. A module naming them uses the sales client, or is listed above with its reason.
    naming = {
        path.relative_to(ROOT).as_posix(): path.read_text()
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if re.search(r"\bsale_keys\b|\bsale_index\b", path.read_text())
    }
    plain = {
        path
        for path, text in naming.items()
        if re.search(r"\bget_redis\(\)|extensions\[\"yakku\.redis\"\]", text)
        and path != "yakku/extensions.py"
    }
    assert plain == set(PLAIN_REDIS_BESIDE_SALE_KEYS)


def test_only_the_sale_index_touches_the_cross_sale_sets():
    # They are on slots of their own on a cluster: written apart, in the order sale_index.py keeps.
    users = {
        path.relative_to(ROOT).as_posix()
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if re.search(r"\b(ACTIVE_SALES|SETTLING_SALES)\b", path.read_text())
    }
    assert users == {"admission/keys.py", "admission/sale_index.py"}


def test_every_script_names_the_keys_of_one_slot():
    # EVALSHA on a cluster goes to its first key's node, and a script may touch only that node's slot.
    from redis.crc import key_slot

    from admission.scripts import Scripts, load_script

    client = redis.Redis()  # registering only reads the text: no connection is made
    for field in Scripts.__dataclass_fields__:
        keys = load_script(client, field).bind(sale_id=12345)
        assert len({key_slot(key.encode()) for key in keys}) == 1, field
