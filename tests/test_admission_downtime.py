"""Downtime is not the waiter's fault: a waiter loses their place only for time the front door answered.

The web's beat, the polls it answers and the admitter's ticks are driven second by second on an explicit
clock; "a stop" is time in which none of them runs. The real processes: tests/test_sale_downtime.py.
"""

import time
from datetime import UTC, datetime

import pytest
from admission_helpers import T0

from admission import front_door
from admission.keys import sale_keys
from admission.states import WaiterState

GRACE_S = 30  # the default ADMISSION_GRACE_S: a waiter polling each second keeps a 30 s deadline
STALE_S = 3  # the default FRONT_DOOR_STALE_S: this much of a gap still counts as up


class Platform:
    """The front door (its beat and the polls it answers) and the admitter, a tick each second."""

    def __init__(self, sales_ops, sale: int, now: float = T0):
        self.ops, self.sale, self.now = sales_ops, sale, now

    def run(self, seconds: int, polling=(), web=True, admitter=True, admitter_first=False) -> None:
        for _ in range(seconds):
            self.now += 1
            if admitter and admitter_first:
                self.ops.tick(self.now)
            if web:
                self.ops.beat(self.now)
                for shopper in polling:
                    self.ops.status(self.sale, shopper, self.now)
            if admitter and not admitter_first:
                self.ops.tick(self.now)

    def stop(self, seconds: int) -> None:
        """Every process stopped: time passes, nobody beats, polls or ticks."""
        self.now += seconds

    def state(self, shopper: int) -> WaiterState:
        """The shopper's stored state, read without polling (a poll would keep the place)."""
        return WaiterState(self.ops.redis.hget(sale_keys(self.sale).waiters, shopper))

    def states(self, *shoppers: int) -> dict[int, WaiterState]:
        return {shopper: self.state(shopper) for shopper in shoppers}


@pytest.fixture
def line(sales_ops):
    """An open sale whose cap holds one admitted shopper: 1 has the turn, 2 and 3 wait behind."""
    sale = sales_ops.opened(units=10, rate=1, cap=1, window=3600)
    sales_ops.join(sale, 1, 2, 3)
    platform = Platform(sales_ops, sale)
    platform.run(1)
    assert platform.states(1, 2, 3) == {1: "admitted", 2: "waiting", 3: "waiting"}
    return platform


@pytest.mark.parametrize("first_back", ["web", "admitter"])
def test_waiters_who_kept_polling_through_a_platform_stop_keep_their_places(line, first_back):
    line.run(10, polling=(2, 3))
    line.stop(60)  # twice the grace: on wall time every deadline passed
    line.run(5, polling=(2, 3), admitter_first=first_back == "admitter")
    assert line.states(2, 3) == {2: "waiting", 3: "waiting"}
    assert line.ops.queue(line.sale) == [2, 3]  # in their order
    assert line.ops.status(line.sale, 2, line.now).position == 1


def test_a_waiter_silent_through_a_stop_is_judged_by_the_time_the_platform_was_up(line):
    line.run(10, polling=(2,))  # 3 polled last when joining, at T0: 11 s of up time so far
    line.stop(60)
    line.run(14, polling=(2,))  # 11 + 3 (the gap's first seconds count as up) + 14 = 28 < 30
    assert line.states(2, 3) == {2: "waiting", 3: "waiting"}
    line.run(3, polling=(2,))  # 31 s of up time without a poll from 3
    assert line.states(2, 3) == {2: "waiting", 3: "expired"}


def test_a_waiter_who_stopped_polling_while_the_platform_was_up_is_evicted_on_time(line):
    line.run(GRACE_S - 2, polling=(2,))
    assert line.state(3) == "waiting"
    line.run(2, polling=(2,))
    assert line.states(2, 3) == {2: "waiting", 3: "expired"}  # as on wall time: the front door was up


def test_a_sparse_line_s_long_gaps_between_polls_are_no_downtime(line):
    # One poll in 25 s is the whole line's traffic: the clock runs on the web's beat, not on the polls.
    for _ in range(3):
        line.run(24)
        line.run(1, polling=(2,))
    assert line.states(2, 3) == {2: "waiting", 3: "expired"}
    assert line.ops.redis.hget(sale_keys(line.sale).settings, "downtime") == "0"


def test_while_the_admitter_is_down_the_web_answers_so_only_the_silent_lose_their_place(line):
    line.run(60, polling=(2,), admitter=False)
    assert line.states(2, 3) == {2: "waiting", 3: "waiting"}  # nobody evicts while the admitter is away
    line.run(1, polling=(2,))  # its first tick back
    assert line.states(2, 3) == {2: "waiting", 3: "expired"}


def test_a_stop_of_the_web_alone_stops_the_clock_while_the_admitter_ticks_on(line):
    line.run(5, polling=(2, 3))
    line.run(60, web=False)  # the admitter ticks on through the web's restart, and evicts nobody
    assert line.states(2, 3) == {2: "waiting", 3: "waiting"}
    line.run(2, polling=(2, 3))
    assert line.states(2, 3) == {2: "waiting", 3: "waiting"}


def test_an_opening_that_passes_during_a_stop_keeps_the_pre_queue_that_kept_polling(sales_ops):
    sale = sales_ops.armed(units=10, rate=1, cap=1, opens_at=datetime.fromtimestamp(T0, UTC))
    sales_ops.join(sale, 1, 2, now=T0 - 60)
    platform = Platform(sales_ops, sale, now=T0 - 60)
    platform.run(30, polling=(1, 2))  # told to come back within 90 s (3 x their 30 s hint)
    platform.stop(150)  # the opening (T0) passes while everything is stopped
    platform.run(1, polling=(1, 2), admitter_first=True)  # the admitter opens it on its first tick back
    platform.run(5, polling=(1, 2))
    assert sorted(platform.states(1, 2).values()) == ["admitted", "waiting"]  # in the draw's order


def test_with_no_front_door_ever_a_sale_runs_on_wall_time(sales_ops):
    sale = sales_ops.opened(units=10, rate=1, cap=1)
    sales_ops.join(sale, 1, 2, 3)
    sales_ops.tick(T0 + 1)
    sales_ops.status(sale, 2, T0 + 5)  # answered with no beat, ever: a bare setup, as most tests are
    sales_ops.tick(T0 + 65)
    assert Platform(sales_ops, sale).states(2, 3) == {2: "expired", 3: "expired"}


def test_the_front_door_s_clock_runs_with_its_beats_and_stands_still_in_a_gap(sales_ops):
    assert front_door.reading(T0) is None  # never beat
    assert front_door.beat(T0) == T0
    assert front_door.beat(T0 + 1) == T0 + 1
    assert front_door.reading(T0 + 2.5) == T0 + 2.5  # a late beat is no gap yet
    assert front_door.reading(T0 + 60) == T0 + 1 + STALE_S  # reading in a gap: stopped
    assert front_door.beat(T0 + 61) == T0 + 1 + STALE_S  # what the next beat makes of it
    assert front_door.beat(T0 + 60.5) == T0 + 1 + STALE_S  # a beat from behind moves nothing
    assert front_door.beat(T0 + 62) == T0 + 2 + STALE_S


def test_a_web_process_beats_the_front_door_from_a_thread_of_its_own(web_app, sales_ops):
    beat = front_door.Beat(web_app).start()
    try:
        deadline = time.monotonic() + 5
        while front_door.reading() is None:
            assert time.monotonic() < deadline, "no beat within 5 s"
            time.sleep(0.05)
    finally:
        beat.stop()
    assert front_door.reading() == pytest.approx(time.time(), abs=STALE_S + 1)
