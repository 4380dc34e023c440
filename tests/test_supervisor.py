"""The supervisor's rules on their own: which Procfile lines the shell hands over, and the restart waits."""

import pytest

from yakku.supervisor import FIRST_RESTART_S, MOST_RESTART_S, STEADY_S, Child, exec_line


@pytest.mark.parametrize(
    ("line", "run_as"),
    [
        ("yakku worker", "exec yakku worker"),
        (
            'gunicorn --bind ${HOST:-127.0.0.1}:8000 "yakku.wsgi:web()"',
            'exec gunicorn --bind ${HOST:-127.0.0.1}:8000 "yakku.wsgi:web()"',
        ),
        ('echo "a; b" > out.log', 'exec echo "a; b" > out.log'),
        ("yakku db upgrade && yakku seed", "yakku db upgrade && yakku seed"),
        ("yakku worker | tee log", "yakku worker | tee log"),
        ("cd app; yakku worker", "cd app; yakku worker"),
        ("yakku worker --name $(hostname)", "yakku worker --name $(hostname)"),
    ],
)
def test_a_single_command_line_becomes_the_process_and_a_compound_one_keeps_its_shell(line, run_as):
    assert exec_line(line) == run_as


def test_a_process_that_keeps_dying_waits_longer_each_time_and_a_steady_one_starts_over():
    child = Child("worker.1", spawn=lambda: None)
    quick = [child.next_delay(ran=2.0) for _ in range(7)]
    assert quick == [FIRST_RESTART_S * 2**n for n in range(5)] + [MOST_RESTART_S] * 2
    assert child.next_delay(ran=STEADY_S) == FIRST_RESTART_S
