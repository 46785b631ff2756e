#!/usr/bin/python3
"""The Python half of the C++ writer / Python reader example (the other half
is examples/python/writer.cpp, mmm_example_py_writer): waits for the chunk,
waits until the writer marks it ready, checks every particle with numpy on
the shared memory itself (no copy), and acknowledges in the handshake slot.

Usage: reader.py [NAME [TIMEOUT_SECONDS]]     defaults: py-particles, 10
Needs the package mmm: PYTHONPATH=build/python (a build tree) or installed.
Exit status: 0 when the data was as expected and acknowledged, 1 otherwise.
"""

import sys
import time

import numpy as np

import mmm

READY, ACK, NACK = -1, -2, -3  # examples/python/particles.hpp


def main() -> int:
    name = sys.argv[1] if len(sys.argv) > 1 else "py-particles"
    timeout = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
    client = mmm.Client()
    # Waits for the writer's create; the dtype comes from the chunk's schema.
    with client.open(name, wait=timeout) as chunk:
        print(f"reader: '{name}' holds {len(chunk)} x {chunk.schema.summary()} "
              f"({chunk.type_name}), as numpy {chunk.dtype}")
        slot = len(chunk) - 1
        deadline = time.monotonic() + timeout
        while True:
            seen = chunk.version()  # before the read: no change is missed
            if chunk.read(slot)["id"] == READY:
                break
            left = deadline - time.monotonic()
            if left <= 0:
                print(f"reader: '{name}' was not marked ready within {timeout} s", file=sys.stderr)
                return 1
            chunk.wait_for_change(seen, timeout=left)

        particles = chunk.array[:slot]  # a view of the shared memory
        i = np.arange(slot)
        ok = bool((particles["id"] == i).all() and (particles["flags"] == i % 3).all()
                  and np.array_equal(particles["pos"]["x"], 0.5 * i)
                  and np.array_equal(particles["pos"]["y"], 2.0 * i)
                  and np.array_equal(particles["pos"]["z"], -1.0 * i)
                  and np.array_equal(particles["mass"], 1.0 + i))
        print(f"reader: {slot} particles, total mass {particles['mass'].sum():g}, "
              f"mean height {particles['pos']['z'].mean():g}: {'as expected' if ok else 'WRONG'}")
        answer = chunk.read(slot)
        answer["id"] = ACK if ok else NACK
        chunk.write(slot, answer)  # wakes the writer
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except mmm.Error as e:
        print(f"reader.py: {e}", file=sys.stderr)
        sys.exit(1)
