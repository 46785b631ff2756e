// mmm_py_helper: the C++ process of the Python tests (python/tests/) and of
// bench/python_bench.py. MMM_RUNTIME_DIR selects the daemon.
//
//   write-particles NAME N    create<Particle>(NAME, N) filled with particle_at(i); "created"
//   check-particles NAME N    open<const Particle>(NAME): every element is particle_at(i)?
//                             "ok", or "mismatch I" (exit 1)
//   write-coords NAME N       create<Coordinate> (fields named by Boost.PFR: f0, f1)
//   check-coords NAME N       open<const Coordinate>: element i is {3i+1, -(7i+2)}? "ok"
//   write-blobs NAME N        create<Blob> (an opaque schema, 12 bytes); byte k of
//                             element i is i+k; "created"
//   open-bench NAME ITERS     ITERS x (open<double>(NAME), destroy); prints
//                             "p50_ns P mean_ns M" (per open + unmap)
//   create-bench NAME ITERS BYTES
//                             ITERS x (create<uint8_t>(NAME, BYTES), destroy,
//                             remove); prints "p50_ns P"
//
// Exit codes: 0 ok, 1 a check failed, 2 usage, 64 + Errc on an mmm::Error
// (printed as "error <code>: <what>").
#include <mmm/mmm.hpp>

#include <boost/describe/class.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

namespace pytest_types {

struct Vec3 {
    float x, y, z;
};
BOOST_DESCRIBE_STRUCT(Vec3, (), (x, y, z))

// numpy: np.dtype([("id", "i4"), ("pos", [("x", "f4"), ("y", "f4"), ("z", "f4")]),
//                  ("vel", "f8", (2,)), ("flags", "u1"), ("tag", "S1")], align=True)
struct Particle {
    std::int32_t id;
    Vec3 pos;
    std::array<double, 2> vel;
    std::uint8_t flags;
    char tag;
};
BOOST_DESCRIBE_STRUCT(Particle, (), (id, pos, vel, flags, tag))

// Not described: Boost.PFR names its fields f0, f1 (numpy's names too).
struct Coordinate {
    int x, y;
};

struct Blob {
    unsigned char bytes[12];
};

Particle particle_at(std::size_t i) {
    const auto k = static_cast<int>(i);
    const double d = static_cast<double>(i);
    return Particle{
        7 * k - 3,
        Vec3{0.5f * static_cast<float>(k), -static_cast<float>(k), 1000.0f + static_cast<float>(k)},
        {1.25 * d, -2.5 * d},
        static_cast<std::uint8_t>(i % 256),
        static_cast<char>('a' + static_cast<int>(i % 26))};
}

bool operator==(const Particle& a, const Particle& b) {
    return a.id == b.id && a.pos.x == b.pos.x && a.pos.y == b.pos.y && a.pos.z == b.pos.z &&
           a.vel == b.vel && a.flags == b.flags && a.tag == b.tag;
}

}  // namespace pytest_types

template <>
inline constexpr bool mmm::opaque_schema_v<pytest_types::Blob> = true;

namespace {

using namespace pytest_types;

void say(const std::string& line) {
    std::cout << line << '\n' << std::flush;
}

int run(const std::vector<std::string>& args) {
    if (args.size() != 3 && !(args.size() == 4 && args[0] == "create-bench")) return 2;
    const std::string& command = args[0];
    const std::string& name = args[1];
    const std::size_t n = std::stoull(args[2]);
    if (n == 0) return 2;
    mmm::Client client;
    if (command == "write-particles") {
        auto c = client.create<Particle>(name, n);
        for (std::size_t i = 0; i < n; ++i) c.write(i, particle_at(i));
        say("created");
        return 0;
    }
    if (command == "check-particles") {
        auto c = client.open<const Particle>(name);
        if (c.size() != n) {
            say("size " + std::to_string(c.size()));
            return 1;
        }
        for (std::size_t i = 0; i < n; ++i) {
            if (!(c.read(i) == particle_at(i))) {
                say("mismatch " + std::to_string(i));
                return 1;
            }
        }
        say("ok");
        return 0;
    }
    if (command == "write-coords") {
        auto c = client.create<Coordinate>(name, n);
        for (std::size_t i = 0; i < n; ++i) {
            const auto k = static_cast<int>(i);
            c.write(i, Coordinate{3 * k + 1, -(7 * k + 2)});
        }
        say("created");
        return 0;
    }
    if (command == "check-coords") {
        auto c = client.open<const Coordinate>(name);
        for (std::size_t i = 0; i < std::min(n, c.size()); ++i) {
            const auto k = static_cast<int>(i);
            const Coordinate v = c.read(i);
            if (v.x != 3 * k + 1 || v.y != -(7 * k + 2)) {
                say("mismatch " + std::to_string(i));
                return 1;
            }
        }
        say(c.size() == n ? "ok" : "size " + std::to_string(c.size()));
        return c.size() == n ? 0 : 1;
    }
    if (command == "write-blobs") {
        auto c = client.create<Blob>(name, n);
        for (std::size_t i = 0; i < n; ++i) {
            Blob b{};
            for (std::size_t k = 0; k < sizeof b.bytes; ++k)
                b.bytes[k] = static_cast<unsigned char>(i + k);
            c.write(i, b);
        }
        say("created");
        return 0;
    }
    if (command == "open-bench") {
        std::vector<std::int64_t> ns(n);
        for (std::size_t i = 0; i < n; ++i) {
            const auto t0 = std::chrono::steady_clock::now();
            { auto c = client.open<double>(name); }
            ns[i] = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now() - t0)
                        .count();
        }
        std::int64_t total = 0;
        for (auto v : ns) total += v;
        std::sort(ns.begin(), ns.end());
        say("p50_ns " + std::to_string(ns[n / 2]) + " mean_ns " +
            std::to_string(total / static_cast<std::int64_t>(n)));
        return 0;
    }
    if (command == "create-bench") {  // N x (create<uint8_t>(NAME, BYTES), unmap, remove)
        const std::size_t bytes = std::stoull(args.size() > 3 ? args[3] : "4096");
        std::vector<std::int64_t> ns(n);
        for (std::size_t i = 0; i < n; ++i) {
            const auto t0 = std::chrono::steady_clock::now();
            { auto c = client.create<std::uint8_t>(name, bytes); }
            client.remove(name);
            ns[i] = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now() - t0)
                        .count();
        }
        std::sort(ns.begin(), ns.end());
        say("p50_ns " + std::to_string(ns[n / 2]));
        return 0;
    }
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const int rc = run(std::vector<std::string>(argv + 1, argv + argc));
        if (rc == 2) std::cerr << "usage: see the top of python/tests/py_helper.cpp\n";
        return rc;
    } catch (const mmm::Error& e) {
        say("error " + std::string(mmm::to_string(e.code())) + ": " + e.what());
        return 64 + static_cast<int>(e.code());
    }
}
