// typed_helper: the "other process" of the integration tests. Built twice:
// with the project's compiler (g++) and with clang++ (typed_helper_clang), to
// check that both agree on element types. MMM_RUNTIME_DIR selects the daemon.
//
//   read-coords NAME            prints "size N", then "i x y" per element
//   write-coord NAME I X Y      writes element I
//   create-types PREFIX N       creates PREFIX.coord/.sample/.triple/.reading
//                               filled with coordinate_at/.../reading_at
//   check-types PREFIX N        opens those four and checks every element
//   create-reading-v2 NAME      creates NAME of 2 ReadingV2 (the other version
//                               of Reading, same type name), prints "created"
//   open-reading NAME           open<const Reading>: prints "opened", or
//                               "error <code>: <what>" (exit 64 + code)
//   type-names                  prints mmm::type_name of each shared type
//   ro-write NAME               open<const Coordinate>, prints "mapped", then
//                               writes through const_cast (must SIGSEGV)
//   hold NAME                   opens, prints "ready x y ...", waits for a line
//                               on stdin, prints "deleted=0|1" and the values again
//   create-race NAME            connects, prints "connected", waits for EOF on
//                               stdin, creates: "won" (exit 0) or
//                               "already_exists" (exit 1)
//   lease NAME                  open<Coordinate> writable (takes a single-writer
//                               chunk's write lease), prints "leased"; then per
//                               stdin line: "write I X Y" -> "wrote",
//                               "release" -> drops the mapping, "released",
//                               "ro" -> also opens it read-only, "ro",
//                               "drop-ro" -> drops that one, "dropped",
//                               "lose-connection" -> shuts down its sockets
//                               (as a lost connection to mmmd), "lost";
//                               exits at the end of stdin
//   create-unmappable NAME MIB  limits its address space (RLIMIT_AS) to what
//                               it uses plus MIB/2 MiB, then creates NAME of
//                               MIB MiB of bytes: prints "error <code>" and
//                               keeps its connection until EOF on stdin (exit
//                               0), or "mapped" / "skip: ..." (exit 77: the
//                               limit did not bite / could not be set)
//   open-unmappable NAME MIB    the same, but opens NAME (bytes) writable
//   follow-growth NAME ACK      open<const uint64_t> NAME (growable) and
//                               open<uint64_t> ACK (2 elements); prints
//                               "following", then reads every element up to
//                               past size() with checked reads, over and over:
//                               each value must be 0 or growth_value(i), each
//                               read past the end out_of_range, span().data() never
//                               moves; each new size() seen is written to
//                               ACK[0]; stops when ACK[1] is 1 (or after 60 s),
//                               printing "sizes N reads R beyond B"
//
// Exit codes: 0 ok, 1 a check failed / lost the race, 2 usage,
// 64 + Errc on an mmm::Error (printed as "error <code>: <what>").
#include "shared_types.hpp"

#include <mmm/mmm.hpp>

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace {

using mmm_test::Coordinate;
using mmm_test::Sample;
using mmm_test::Triple;

void say(const std::string& line) {
    std::cout << line << '\n' << std::flush;
}

std::size_t to_size(const char* s) {
    return static_cast<std::size_t>(std::stoull(s));
}

template <class T>
std::string coords_line(const mmm::MemChunk<T>& c) {
    std::ostringstream out;
    for (std::size_t i = 0; i < c.size(); ++i) {
        Coordinate v = c.read(i);
        out << (i ? " " : "") << v.x << ' ' << v.y;
    }
    return out.str();
}

int read_coords(mmm::Client& client, const std::string& name) {
    auto c = client.open<const Coordinate>(name);
    say("size " + std::to_string(c.size()));
    for (std::size_t i = 0; i < c.size(); ++i) {
        Coordinate v = c.read(i);
        say(std::to_string(i) + " " + std::to_string(v.x) + " " + std::to_string(v.y));
    }
    return 0;
}

int write_coord(mmm::Client& client, const std::string& name, std::size_t i, int x, int y) {
    auto c = client.open<Coordinate>(name);
    c.write(i, Coordinate{x, y});
    say("wrote");
    return 0;
}

int create_types(mmm::Client& client, const std::string& prefix, std::size_t n) {
    auto coords = client.create<Coordinate>(prefix + ".coord", n);
    auto samples = client.create<Sample>(prefix + ".sample", n);
    auto triples = client.create<Triple>(prefix + ".triple", n);
    auto readings = client.create<mmm_test::Reading>(prefix + ".reading", n);
    for (std::size_t i = 0; i < n; ++i) {
        coords.write(i, mmm_test::coordinate_at(i));
        samples.write(i, mmm_test::sample_at(i));
        triples.write(i, mmm_test::triple_at(i));
        readings.write(i, mmm_test::reading_at(i));
    }
    say("created");
    return 0;
}

int check_types(mmm::Client& client, const std::string& prefix, std::size_t n) {
    auto coords = client.open<const Coordinate>(prefix + ".coord");
    auto samples = client.open<const Sample>(prefix + ".sample");
    auto triples = client.open<const Triple>(prefix + ".triple");
    auto readings = client.open<const mmm_test::Reading>(prefix + ".reading");
    int bad = 0;
    if (coords.size() != n || samples.size() != n || triples.size() != n || readings.size() != n) {
        say("bad sizes");
        return 1;
    }
    for (std::size_t i = 0; i < n; ++i) {
        if (!(coords.read(i) == mmm_test::coordinate_at(i))) ++bad;
        if (!(samples.read(i) == mmm_test::sample_at(i))) ++bad;
        if (triples.read(i) != mmm_test::triple_at(i)) ++bad;
        if (!(readings.read(i) == mmm_test::reading_at(i))) ++bad;
    }
    say("mismatches " + std::to_string(bad));
    return bad == 0 ? 0 : 1;
}

int create_reading_v2(mmm::Client& client, const std::string& name) {
    auto c = client.create<mmm_test::ReadingV2>(name, 2);
    c.write(1, mmm_test::ReadingV2{7, mmm_test::Quality::good, {1, 2}, {1, 2, 3}, 'k', true, 2.5f});
    say("created");
    return 0;
}

int open_reading(mmm::Client& client, const std::string& name) {
    auto c = client.open<const mmm_test::Reading>(name);
    say("opened");
    return 0;
}

int type_names() {
    say("Coordinate " + mmm::type_name<Coordinate>());
    say("Sample " + mmm::type_name<Sample>());
    say("Triple " + mmm::type_name<Triple>());
    say("Reading " + mmm::type_name<mmm_test::Reading>());
    return 0;
}

int ro_write(mmm::Client& client, const std::string& name) {
    auto c = client.open<const Coordinate>(name);
    say("mapped " + coords_line(c));
    auto* p = const_cast<Coordinate*>(c.pointer(0));
    *static_cast<volatile int*>(&p->x) = 12345;  // must fault: the mapping is PROT_READ
    say("wrote");
    return 0;
}

int hold(mmm::Client& client, const std::string& name) {
    auto c = client.open<Coordinate>(name);
    say("ready " + coords_line(c));
    std::string line;
    if (!std::getline(std::cin, line)) return 2;
    say(std::string("deleted=") + (c.deleted() ? "1" : "0"));
    say("values " + coords_line(c));
    // The raw view must agree with the checked reads.
    std::ostringstream raw;
    for (std::size_t i = 0; i < c.size(); ++i) raw << (i ? " " : "") << c[i].x << ' ' << c[i].y;
    say("raw " + raw.str());
    return 0;
}

int lease(mmm::Client& client, const std::string& name) {
    std::optional<mmm::MemChunk<Coordinate>> c = client.open<Coordinate>(name);
    std::optional<mmm::MemChunk<const Coordinate>> ro;
    say("leased");
    std::string line;
    while (std::getline(std::cin, line)) {
        std::istringstream in(line);
        std::string what;
        in >> what;
        if (what == "write" && c) {
            std::size_t i = 0;
            int x = 0, y = 0;
            in >> i >> x >> y;
            c->write(i, Coordinate{x, y});
            say("wrote");
        } else if (what == "release") {
            c.reset();
            say("released");
        } else if (what == "ro") {
            ro = client.open<const Coordinate>(name);
            say("ro");
        } else if (what == "drop-ro") {
            ro.reset();
            say("dropped");
        } else if (what == "lose-connection") {
            for (int fd = 3; fd < 1024; ++fd) {
                struct stat st {};
                if (::fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode)) ::shutdown(fd, SHUT_RDWR);
            }
            say("lost");
        } else {
            return 2;
        }
    }
    return 0;
}

int follow_growth(mmm::Client& client, const std::string& name, const std::string& ack_name) {
    auto c = client.open<const std::uint64_t>(name);
    auto ack = client.open<std::uint64_t>(ack_name);
    const std::uint64_t* const base = c.span().data();
    say("following");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    std::size_t last = 0, sizes = 0, reads = 0, beyond = 0;
    while (ack.read(1) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            say("timed out after " + std::to_string(sizes) + " sizes");
            return 1;
        }
        if (c.span().data() != base) {
            say("span().data() moved");
            return 1;
        }
        const std::size_t n = c.size();
        if (n != last) {
            last = n;
            ++sizes;
            ack.write(0, n);
        }
        // Past the end too: a concurrent shrink makes reads near it fail, and
        // every read at or past max_size() must.
        for (std::size_t i = 0; i < n + 4; ++i) {
            try {
                const std::uint64_t v = c.read(i);
                ++reads;
                if (v != 0 && v != mmm_test::growth_value(i)) {
                    say("element " + std::to_string(i) + " holds " + std::to_string(v));
                    return 1;
                }
                if (i >= c.max_size()) {
                    say("read " + std::to_string(i) + " past max_size()");
                    return 1;
                }
            } catch (const mmm::Error& e) {
                if (e.code() != mmm::Errc::out_of_range) throw;
                ++beyond;
            }
        }
    }
    say("sizes " + std::to_string(sizes) + " reads " + std::to_string(reads) + " beyond " +
        std::to_string(beyond));
    return 0;
}

int create_race(const std::string& name) {
    mmm::Client client;  // connect before the start signal: only the create races
    say("connected");
    char byte;
    while (::read(0, &byte, 1) > 0) {
    }
    try {
        auto c = client.create<Coordinate>(name, 1);
        c.write(0, Coordinate{static_cast<int>(::getpid()), 0});
        say("won");
        return 0;
    } catch (const mmm::Error& e) {
        if (e.code() == mmm::Errc::already_exists) {
            say("already_exists");
            return 1;
        }
        throw;
    }
}

std::size_t address_space_in_use() {
    std::ifstream statm("/proc/self/statm");
    std::size_t pages = 0;
    statm >> pages;
    return pages * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

int unmappable(mmm::Client& client, const std::string& name, std::size_t mib, bool create) {
    (void)client.stats();  // connected before the limit
    rlimit before{};
    rlimit tight{};
    if (::getrlimit(RLIMIT_AS, &before) == 0) {
        tight = before;
        tight.rlim_cur = address_space_in_use() + (mib << 20) / 2;
    }
    if (tight.rlim_cur == 0 || tight.rlim_cur > before.rlim_max ||
        ::setrlimit(RLIMIT_AS, &tight) != 0) {
        say("skip: cannot lower RLIMIT_AS to " + std::to_string(tight.rlim_cur));
        return 77;
    }
    try {
        auto c =
            create ? client.create<std::uint8_t>(name, mib << 20) : client.open<std::uint8_t>(name);
        say("mapped");
        return 77;
    } catch (const mmm::Error& e) {
        ::setrlimit(RLIMIT_AS, &before);
        say("error " + std::string(mmm::to_string(e.code())) + ": " + e.what());
    }
    std::string line;
    while (std::getline(std::cin, line)) {
    }
    return 0;
}

int run(const std::vector<std::string>& a) {
    if (a.empty()) return 2;
    const std::string& cmd = a[0];
    if (cmd == "type-names") return type_names();
    if (cmd == "create-race" && a.size() == 2) return create_race(a[1]);
    mmm::Client client;
    if (cmd == "read-coords" && a.size() == 2) return read_coords(client, a[1]);
    if (cmd == "write-coord" && a.size() == 5)
        return write_coord(client, a[1], to_size(a[2].c_str()), std::stoi(a[3]), std::stoi(a[4]));
    if (cmd == "create-types" && a.size() == 3)
        return create_types(client, a[1], to_size(a[2].c_str()));
    if (cmd == "check-types" && a.size() == 3)
        return check_types(client, a[1], to_size(a[2].c_str()));
    if (cmd == "ro-write" && a.size() == 2) return ro_write(client, a[1]);
    if (cmd == "hold" && a.size() == 2) return hold(client, a[1]);
    if (cmd == "create-reading-v2" && a.size() == 2) return create_reading_v2(client, a[1]);
    if (cmd == "open-reading" && a.size() == 2) return open_reading(client, a[1]);
    if (cmd == "follow-growth" && a.size() == 3) return follow_growth(client, a[1], a[2]);
    if (cmd == "lease" && a.size() == 2) return lease(client, a[1]);
    if (cmd == "create-unmappable" && a.size() == 3)
        return unmappable(client, a[1], to_size(a[2].c_str()), true);
    if (cmd == "open-unmappable" && a.size() == 3)
        return unmappable(client, a[1], to_size(a[2].c_str()), false);
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    try {
        int rc = run(args);
        if (rc == 2) std::cerr << "typed_helper: bad usage\n";
        return rc;
    } catch (const mmm::Error& e) {
        say("error " + std::string(mmm::to_string(e.code())) + ": " + e.what());
        return 64 + static_cast<int>(e.code());
    } catch (const std::exception& e) {
        say(std::string("exception: ") + e.what());
        return 3;
    }
}
