"""Fixtures of the Python tests: a real mmmd per test module, started from
the build tree, stopped by pid at the end, with its segments removed.

Run by ctest (python.pytest), which sets:
  PYTHONPATH          <build>/python (the package mmm, as built)
  MMM_TEST_MMMD       the mmmd to start
  MMM_TEST_MMMCTL     mmmctl
  MMM_TEST_PY_HELPER  mmm_py_helper (python/tests/py_helper.cpp)
By hand: the same variables, then /usr/bin/python3 -m pytest python/tests.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest

import mmm

MMMD = os.environ.get("MMM_TEST_MMMD", "")
MMMCTL = os.environ.get("MMM_TEST_MMMCTL", "")
HELPER = os.environ.get("MMM_TEST_PY_HELPER", "")


def _can_connect(path: str) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        try:
            s.connect(path)
            return True
        except OSError:
            return False


def eventually(condition, timeout: float = 10.0, interval: float = 0.005) -> bool:
    """Polls `condition` until it holds (True) or `timeout` passes (False):
    bounded in time and in tries."""
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / interval) + 1):
        if condition():
            return True
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)  # poll interval of a bounded wait
    return bool(condition())


class Daemon:
    """An mmmd on a runtime directory of its own (so a namespace of its own)."""

    def __init__(self) -> None:
        if not MMMD or not os.access(MMMD, os.X_OK):
            pytest.fail("MMM_TEST_MMMD does not name the mmmd to test (run through ctest)")
        self.runtime_dir = tempfile.mkdtemp(prefix="mmm-pytest.")
        self.segment_dir = ""
        env = dict(os.environ, MMM_RUNTIME_DIR=self.runtime_dir)
        self.proc = subprocess.Popen(
            [MMMD, "--foreground", "--runtime-dir", self.runtime_dir, "--log-level", "warn"],
            env=env, stdin=subprocess.DEVNULL)
        sock = os.path.join(self.runtime_dir, "mmmd.sock")
        # A connect that succeeds means this mmmd serves.
        if not eventually(lambda: _can_connect(sock) or self.proc.poll() is not None, 10.0):
            self.stop()
            pytest.fail("mmmd did not accept connections on %s within 10 s" % sock)
        if self.proc.poll() is not None:
            self.stop()
            pytest.fail("mmmd exited at startup with status %s" % self.proc.returncode)
        self.client = mmm.Client(self.runtime_dir)
        self.segment_dir = self.client.stats().segment_dir

    def env(self, **extra: str) -> dict:
        return dict(os.environ, MMM_RUNTIME_DIR=self.runtime_dir, **extra)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.segment_dir.startswith("/dev/shm/mmm."):
            shutil.rmtree(self.segment_dir, ignore_errors=True)
        shutil.rmtree(self.runtime_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def daemon():
    d = Daemon()
    saved = os.environ.get("MMM_RUNTIME_DIR")
    # mmm.SharedMemory, mmm.Client() and child processes find it through the environment.
    os.environ["MMM_RUNTIME_DIR"] = d.runtime_dir
    try:
        yield d
    finally:
        if saved is None:
            os.environ.pop("MMM_RUNTIME_DIR", None)
        else:
            os.environ["MMM_RUNTIME_DIR"] = saved
        d.stop()


@pytest.fixture
def client(daemon) -> mmm.Client:
    return daemon.client


@pytest.fixture
def name(request) -> str:
    """A chunk name of this test's own."""
    return re.sub(r"[^A-Za-z0-9._-]", "-", request.node.name)[:100]


def run_helper(daemon: Daemon, *args: str, timeout: float = 30.0) -> subprocess.CompletedProcess:
    if not HELPER or not os.access(HELPER, os.X_OK):
        pytest.fail("MMM_TEST_PY_HELPER does not name mmm_py_helper (run through ctest)")
    return subprocess.run([HELPER, *args], env=daemon.env(), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def python_child(daemon: Daemon, code: str) -> subprocess.Popen:
    """A Python process running `code`, with this package and this daemon."""
    return subprocess.Popen([sys.executable, "-c", code], env=daemon.env(),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
