"""The supervisor `yakku up` runs the Procfile under: a process that dies is started again (sooner the
first time, later if it keeps dying), SIGINT, SIGTERM and SIGHUP stop them all, and on Linux every child
dies with the supervisor even when it is SIGKILLed.

Why not honcho's Manager, which `yakku up` used before: its loop stops every process as soon as one
exits, handles only SIGINT and SIGTERM, and runs each command from a forked helper process of its own,
so a killed `yakku up` leaves the helpers and their children running. Honcho still parses the Procfile
and formats the output. supervisord and circus are daemons with a config file and a control socket of
their own, and neither makes its children die with it either.
"""

import contextlib
import ctypes
import datetime
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from honcho.colour import get_colours
from honcho.printer import Message, Printer

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# A child that dies is started again after FIRST_RESTART_S, twice as long after each further quick death
# (up to MOST_RESTART_S), and after FIRST_RESTART_S again once it had run STEADY_S without dying.
FIRST_RESTART_S = 1.0
MOST_RESTART_S = 30.0
STEADY_S = 30.0
# How long the children have to stop after SIGTERM before they get SIGKILL.
STOP_S = 10.0
POLL_S = 0.1
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
SYSTEM = "system"


def die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn that has the kernel SIGTERM the child when its parent dies (Linux only, else None).

    The kernel sends it when the thread that started the child ends: start children from the main thread.
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up in the parent: the child only calls it
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the line above: no signal will come
            os._exit(1)

    return preexec


def exec_line(command: str) -> str:
    """A Procfile line for `sh -c`, with `exec` before a single command so the shell becomes it.

    dash forks a single command rather than becoming it, and the kernel's death signal reaches only the
    shell, not the command it forked. A compound line (`a && b`, a pipe) is left as it is.
    """
    lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|()`")
    compound = "\n" in command or any(token and set(token) <= set(";&|()`") for token in lexer)
    return command if compound else f"exec {command}"


@dataclass
class Child:
    """One supervised process: how to start it, the running one, and when to start it again."""

    name: str
    spawn: Callable[[], subprocess.Popen]
    colour: str | None = None
    last: bool = False  # stopped after the others, which may need it to stop cleanly (Redis)
    process: subprocess.Popen | None = None
    started: float = 0.0
    quick_deaths: int = 0
    due: float = 0.0  # monotonic time to start it again, while `process` is None

    def next_delay(self, ran: float) -> float:
        """Seconds to wait before starting it again, having died after running `ran` seconds."""
        if ran >= STEADY_S:
            self.quick_deaths = 0
        delay = min(FIRST_RESTART_S * 2**self.quick_deaths, MOST_RESTART_S)
        self.quick_deaths += 1
        return delay


class Supervisor:
    """Runs its children until a stop signal, restarting each one that dies, and stops them all then."""

    def __init__(self, printer: Printer | None = None):
        self.children: list[Child] = []
        self.printer = printer or Printer(sys.stdout)
        self.printer.width = len(SYSTEM)
        self._colours = get_colours()
        self._print_lock = threading.Lock()
        self._stop_signal: int | None = None

    def add_command(self, name: str, command: str, env: dict) -> None:
        """A Procfile line, run by the shell in a session of its own, its output shown under `name`."""

        def spawn() -> subprocess.Popen:
            return subprocess.Popen(
                exec_line(command),
                shell=True,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a group of its own: Ctrl-C reaches us, and we stop it in order
                preexec_fn=die_with_parent(),
            )

        self.add(Child(name, spawn, colour=next(self._colours)))

    def add(self, child: Child) -> None:
        """Supervise `child`; a spawn that returns a process already running adopts it."""
        self.children.append(child)
        self.printer.width = max(self.printer.width, len(child.name))

    def run(self) -> int:
        """Start every child and keep them running until SIGINT, SIGTERM or SIGHUP; 128 + that signal."""
        previous = {signum: signal.signal(signum, self._on_signal) for signum in STOP_SIGNALS}
        try:
            for child in self.children:
                self._start(child)
            while self._stop_signal is None:
                self._tend(time.monotonic())
                time.sleep(POLL_S)
            self.say(f"{signal.Signals(self._stop_signal).name} received: stopping every process")
            return 128 + self._stop_signal
        finally:
            self.stop()
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def stop(self) -> None:
        """SIGTERM each child's process group, SIGKILL what is left after STOP_S; the `last` ones after."""
        self._stop_all([child for child in self.children if not child.last])
        self._stop_all([child for child in self.children if child.last])

    def say(self, text: str) -> None:
        """A line of the supervisor's own in the output."""
        self._print(SYSTEM, None, text)

    def _on_signal(self, signum, frame) -> None:
        if self._stop_signal is None:
            self._stop_signal = signum

    def _tend(self, now: float) -> None:
        for child in self.children:
            if child.process is not None and child.process.poll() is not None:
                self._buried(child, now)
            elif child.process is None and now >= child.due:
                self._start(child)

    def _buried(self, child: Child, now: float) -> None:
        ran, returncode = now - child.started, child.process.returncode
        delay = child.next_delay(ran)
        child.process, child.due = None, now + delay
        self.say(f"{child.name} exited (rc={returncode}) after {ran:.1f} s: restarting in {delay:.0f} s")

    def _start(self, child: Child) -> None:
        child.started = time.monotonic()
        try:
            child.process = child.spawn()
        except Exception as failed:  # e.g. a redis-server that would not start: try again later
            delay = child.next_delay(0.0)
            child.due = child.started + delay
            self.say(f"{child.name} did not start ({failed}): trying again in {delay:.0f} s")
            return
        self.say(f"{child.name} started (pid={child.process.pid})")
        if child.process.stdout is not None:
            threading.Thread(target=self._relay, args=(child, child.process), daemon=True).start()

    def _relay(self, child: Child, process: subprocess.Popen) -> None:
        for line in iter(process.stdout.readline, b""):
            self._print(child.name, child.colour, line)
        process.stdout.close()

    def _print(self, name: str, colour: str | None, data: str | bytes) -> None:
        message = Message(type="line", data=data, time=datetime.datetime.now(), name=name, colour=colour)
        with self._print_lock:
            self.printer.write(message)

    def _stop_all(self, children: list[Child]) -> None:
        running = [child for child in children if child.process is not None and child.process.poll() is None]
        for child in running:
            self.say(f"sending SIGTERM to {child.name} (pid={child.process.pid})")
            _signal_group(child.process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_S
        for child in running:
            try:
                child.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(f"sending SIGKILL to {child.name} (pid={child.process.pid})")
                _signal_group(child.process, signal.SIGKILL)
                child.process.wait()
        for child in children:
            child.process = None


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)  # the child leads its own session, so its pid is its group's
