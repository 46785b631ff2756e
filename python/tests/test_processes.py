"""Session chunks and processes that end; the GIL released in waits; Ctrl-C."""

import signal
import threading
import time

import numpy as np
import pytest

import mmm

from conftest import eventually, python_child

CHILD_PRELUDE = "import sys, numpy as np, mmm\nclient = mmm.Client()\n"


def _gone(client, name):
    try:
        client.info(name)
        return False
    except FileNotFoundError:
        return True


def _start(daemon, code):
    child = python_child(daemon, CHILD_PRELUDE + code)
    line = child.stdout.readline().strip()
    assert line == "ready", (line, child.stderr.read() if child.poll() is not None else "")
    return child


@pytest.mark.parametrize("how", ["exit", "kill"])
def test_session_chunks_end_with_their_process(daemon, client, name, how):
    child = _start(daemon, f"""
c = client.create({name!r}, 'f8', 10, lifetime='session')
p = client.create({name + '.kept'!r}, 'f8', 10)
print('ready', flush=True)
sys.stdin.readline()
""")
    assert client.info(name).lifetime == "session"
    if how == "kill":
        child.send_signal(signal.SIGKILL)
    else:
        child.stdin.write("\n")
        child.stdin.flush()
    child.wait(timeout=10)
    assert eventually(lambda: _gone(client, name), 10.0)
    assert client.info(name + ".kept").lifetime == "persistent"  # persistent ones stay
    client.remove(name + ".kept")


def _in_thread(fn):
    """Starts fn in a thread; returns (thread, results, entered)."""
    results, entered = [], threading.Event()

    def body():
        entered.set()
        results.append(fn())
    t = threading.Thread(target=body, daemon=True)
    t.start()
    assert entered.wait(10)
    return t, results


def _python_runs(results):
    """Runs Python bytecode in this thread, then says whether the other
    thread was still waiting all along: if it held the GIL in its wait, this
    thread would only get here after the wait ended (with a result)."""
    n = 0
    for _ in range(10000):
        n += 1
    return n == 10000 and not results


def test_wait_for_change_releases_the_gil(client, name):
    with client.create(name, "u8", 1) as c:
        v = c.version()
        t0 = time.monotonic()
        t, results = _in_thread(lambda: c.wait_for_change(v, timeout=20.0))
        # The waiter holds the GIL until it releases it in the wait: this
        # thread runs again only then (or after 20 s if it never did).
        assert _python_runs(results)
        c.write(0, 1)
        t.join(10)
        assert results == [c.version()] and time.monotonic() - t0 < 10
        c.remove()


def test_lock_and_open_release_the_gil(client, name):
    with client.create(name, "u8", 1) as c:
        with c.lock():
            t0 = time.monotonic()
            t, results = _in_thread(lambda: c.lock(timeout=20.0).locked)
            assert _python_runs(results)
        t.join(10)
        assert results == [True] and time.monotonic() - t0 < 10
        c.remove()
    t0 = time.monotonic()
    t, results = _in_thread(lambda: client.open(name, wait=20.0))
    assert _python_runs(results)
    with client.create(name, "u8", 1):
        t.join(10)
    assert len(results) == 1 and time.monotonic() - t0 < 10
    results[0].close()
    client.remove(name)


@pytest.mark.parametrize("call", ["wait_for_change", "lock", "open"])
def test_ctrl_c_interrupts_waits(daemon, client, name, call):
    with client.create(name, "u8", 1) as c, c.lock():
        code = {
            "wait_for_change": f"c = client.open({name!r})\nprint('ready', flush=True)\n"
                               "c.wait_for_change(c.version())",
            "lock": f"c = client.open({name!r})\nprint('ready', flush=True)\nc.lock()",
            "open": f"print('ready', flush=True)\nclient.open({name + '.never'!r}, wait=600)",
        }[call]
        child = _start(daemon, code + "\nprint('returned', flush=True)\n")
        child.send_signal(signal.SIGINT)
        try:
            rc = child.wait(timeout=10)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait(5)
        assert rc != 0 and "KeyboardInterrupt" in child.stderr.read()
        c.remove()
