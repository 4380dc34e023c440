"""Who listens for which sale's end, and one watcher per sale that asks the web and tells them all."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from events.exceptions import TooManyListeners
from events.settings import EventsSettings

# The SSE event that carries the final panel; the page swaps it in on `sse-swap="end"`.
END_EVENT = "end"


class SaleWatch:
    """One sale's listeners and, once the sale has ended, the event telling it, ready to send."""

    def __init__(self, sale_id: int):
        self.sale_id = sale_id
        self.listeners = 0
        self.ended = asyncio.Event()
        self.frame = b""
        self.task: asyncio.Task | None = None

    def end(self, panel: str) -> None:
        """Keep the end event (the panel is the same for everyone) and wake every listener."""
        self.frame = sse_event(END_EVENT, panel)
        self.ended.set()


class Hub:
    """Every sale someone listens to, each watched by one task while it has listeners."""

    def __init__(self, settings: EventsSettings, ask_end: Callable[[int], str | None]):
        self.settings, self.ask_end = settings, ask_end
        self.watches: dict[int, SaleWatch] = {}
        self.listeners = 0
        self.told = 0  # streams sent their sale's end (events/metrics.py reads these at a scrape)
        self.refused = 0  # pages answered 503, past a bound

    @contextlib.asynccontextmanager
    async def listening(self, sale_id: int) -> AsyncIterator[SaleWatch]:
        """Count one listener of the sale while in the block; TooManyListeners past the process's bound."""
        watch = self.watches.get(sale_id)
        if self.listeners >= self.settings.max_listeners or (watch is None and self._full_of_sales()):
            self.refused += 1
            raise TooManyListeners(sale_id)
        watch = watch or self._watch(sale_id)
        watch.listeners += 1
        self.listeners += 1
        try:
            yield watch
        finally:
            watch.listeners -= 1
            self.listeners -= 1
            if not watch.listeners and not watch.ended.is_set():
                watch.task.cancel()  # nobody left to tell: stop asking the web
                del self.watches[sale_id]

    def _full_of_sales(self) -> bool:
        return self.sales_watched() >= self.settings.max_sales

    def sales_watched(self) -> int:
        """Sales whose end is asked for (someone listens, and it has not ended)."""
        return sum(1 for watch in self.watches.values() if not watch.ended.is_set())

    def _watch(self, sale_id: int) -> SaleWatch:
        # An ended sale's watch stays: it never runs again, so a page that comes later is told at once.
        watch = self.watches[sale_id] = SaleWatch(sale_id)
        watch.task = asyncio.get_running_loop().create_task(self._ask_until_ended(watch))
        return watch

    async def _ask_until_ended(self, watch: SaleWatch) -> None:
        while True:
            panel = await asyncio.to_thread(self.ask_end, watch.sale_id)
            if panel is not None:
                watch.end(panel)
                return
            await asyncio.sleep(self.settings.ask_every_s)


def sse_event(name: str, data: str) -> bytes:
    """One Server-Sent Event: its name, each line of `data` on a `data:` line, a blank line to end it."""
    lines = data.splitlines() or [""]
    return (f"event: {name}\n" + "".join(f"data: {line}\n" for line in lines) + "\n").encode()
