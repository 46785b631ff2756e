"""Targets of the multiprocessing children of test_shared_memory.py (a
module of its own so that 'spawn' children can import them)."""

import importlib


def implementation(which):
    if which == "mmm":
        return importlib.import_module("mmm").SharedMemory
    return importlib.import_module("multiprocessing.shared_memory").SharedMemory


def attach_and_write(which, name, data):
    shm = implementation(which)(name)
    shm.buf[:len(data)] = data
    shm.close()


def write_through(shm, data):
    """Gets a pickled SharedMemory ('spawn') or a copy of it ('fork')."""
    shm.buf[:len(data)] = data
    shm.close()
