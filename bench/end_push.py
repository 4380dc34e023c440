"""The end of a sale pushed to 10,000 waiters (issue 11, rule 5): how long each waits to be told, what
holding them costs the events process, and what the same waiters would cost by polling instead.

The platform (bench/harness.py) runs web and api under gunicorn on a private Redis, and the events
process (`yakku events`, the Procfile's line) asking that web. One sale is open. The bench holds
--listeners SSE streams to the events process from one asyncio loop on raw sockets (each opened as a
page's EventSource would, and counted once its first bytes came), measures the events process's CPU
and RSS over --hold seconds of holding them, then closes the sale and takes, for every stream, the
time from the close to its `end` event. Beside it: the polling the same waiters would make
(1 / END_CHECK_EVERY_S per waiter) against what the web's GET /sales/ID/end serves, measured by wrk
for --wrk-seconds. Client, events process and web share the machine's cores, so the times include
the bench's own loop reading 10,000 sockets at once. Stops by itself within --limit seconds.

Run:  python bench/end_push.py [--listeners 10000] [--hold 5] [--wrk-seconds 5] [--limit 110]
"""

import argparse
import asyncio
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import YAKKU, free_port, platform  # noqa: E402
from waiting_room import open_sale  # noqa: E402

from admission.lookup import END_CHECK_EVERY_S  # noqa: E402
from events.serve import raise_open_files_limit  # noqa: E402

CONNECT_AT_ONCE = 500  # streams opened together: a crowd, within the events process's backlog


class Listener:
    """One page's stream of the sale's end, on a raw socket."""

    def __init__(self):
        self.told_at: float | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self, port: int, sale_id: int) -> None:
        reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
        self.writer.write(
            f"GET /sales/{sale_id}/end HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Accept: text/event-stream\r\n\r\n".encode()
        )
        head = await reader.readuntil(b": listening\n\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(head.split(b"\r\n", 1)[0].decode())
        self.reader = reader

    async def hear_the_end(self) -> None:
        await self.reader.readuntil(b"event: end\n")
        self.told_at = time.monotonic()
        self.writer.close()


async def hold_and_close(args, shop, events: psutil.Process, sale_id: int, port: int) -> dict:
    listeners = [Listener() for _ in range(args.listeners)]
    for first in range(0, len(listeners), CONNECT_AT_ONCE):
        await asyncio.gather(
            *(each.open(port, sale_id) for each in listeners[first : first + CONNECT_AT_ONCE])
        )
    heard = [asyncio.ensure_future(each.hear_the_end()) for each in listeners]
    cpu_before, held_from = events.cpu_times(), time.monotonic()
    await asyncio.sleep(args.hold)
    cpu_after, held_for = events.cpu_times(), time.monotonic() - held_from
    rss = events.memory_info().rss
    closed_at = time.monotonic()
    await asyncio.to_thread(close_sale, shop, sale_id)
    await asyncio.wait(heard, timeout=args.limit / 4)
    cpu_told = events.cpu_times()
    waits = sorted(each.told_at - closed_at for each in listeners if each.told_at)
    return {
        "held": len(listeners),
        "told": len(waits),
        "median_s": statistics.median(waits) if waits else None,
        "p99_s": waits[int(0.99 * (len(waits) - 1))] if waits else None,
        "max_s": waits[-1] if waits else None,
        "events_cpu_while_holding": _seconds(cpu_before, cpu_after) / held_for,
        "events_cpu_to_tell_s": _seconds(cpu_after, cpu_told),
        "events_rss_mb": rss / 2**20,
    }


def _seconds(before, after) -> float:
    return (after.user + after.system) - (before.user + before.system)


def close_sale(shop, sale_id: int) -> None:
    from admission import sales

    with shop.app().app_context():
        sales.close_sale(sale_id)


def end_requests_per_second(web_url: str, sale_id: int, seconds: int) -> float:
    """What the web's GET /sales/ID/end serves, closed loop (wrk, 32 keep-alive connections)."""
    command = [
        "wrk",
        "--threads=1",
        "--connections=32",
        f"--duration={seconds}s",
        f"{web_url}/sales/{sale_id}/end",
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--listeners", type=int, default=10_000)
    parser.add_argument(
        "--hold", type=float, default=5.0, help="seconds the streams are held before the close"
    )
    parser.add_argument("--wrk-seconds", type=int, default=5)
    parser.add_argument("--heartbeat", type=float, help="the events process's YAKKU_EVENTS_HEARTBEAT_S")
    parser.add_argument(
        "--limit", type=float, default=110.0, help="seconds after which the bench stops itself"
    )
    args = parser.parse_args()
    raise_open_files_limit(args.listeners + 256)  # a socket per stream on this side too
    started = time.monotonic()
    signal.signal(signal.SIGALRM, _out_of_time)
    signal.alarm(int(args.limit) + 5)
    with platform(api_workers=1, web_workers=2) as shop:
        sale_id = open_sale(shop.app(), units=10)
        end_rps = end_requests_per_second(shop.web_url, sale_id, args.wrk_seconds)
        port = free_port()
        env = {**shop.env, "YAKKU_EVENTS_MAX_LISTENERS": str(args.listeners + 100)}
        env.update({"YAKKU_EVENTS_HEARTBEAT_S": str(args.heartbeat)} if args.heartbeat else {})
        process = shop.start("events", *YAKKU, "events", "--port", str(port), env=env)
        wait_for_events(port)
        left = args.limit - (time.monotonic() - started)
        holding = hold_and_close(args, shop, psutil.Process(process.pid), sale_id, port)
        figures = asyncio.run(asyncio.wait_for(holding, left))
    polls = args.listeners / END_CHECK_EVERY_S
    print(f"streams held:            {figures['held']:,}")
    print(f"told the end:            {figures['told']:,}")
    print(f"close to event, median:  {figures['median_s'] * 1000:,.0f} ms")
    print(f"close to event, p99:     {figures['p99_s'] * 1000:,.0f} ms")
    print(f"close to event, max:     {figures['max_s'] * 1000:,.0f} ms")
    print(f"events CPU while holding: {figures['events_cpu_while_holding']:.1%} of a core")
    print(f"events RSS while holding: {figures['events_rss_mb']:,.0f} MiB")
    print(f"events CPU to tell all:  {figures['events_cpu_to_tell_s']:.2f} s")
    print(f"load average (1 min):    {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"polling instead:         {polls:,.0f} req/s of GET /end (every {END_CHECK_EVERY_S} s)")
    over = f"{polls / end_rps:.1f}x over" if end_rps else "none answered"
    print(f"web's GET /end serves:   {end_rps:,.0f} req/s (2 gunicorn workers): {over}")
    print(f"bench took {time.monotonic() - started:.0f} s")


def wait_for_events(port: int, timeout: float = 30.0) -> None:
    """Until the events process listens."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the events process did not listen on {port} within {timeout} s")


def _out_of_time(signum, frame) -> None:
    raise TimeoutError("the bench ran past --limit")  # the harness still stops every process


if __name__ == "__main__":
    main()
