// Control plane (issue #5, rows 4 and 5).
//
// Open of an existing chunk, per operation (p50/p99 as counters):
//   BM_Open/mmm            Client::open<T> + destroy (lookup, SCM_RIGHTS, fstat,
//                          mmap, header check; then munmap + close notice)
//   BM_Open/socket_rtt     request/response of the same sizes on a Unix stream
//                          socket to a forked echo process (no descriptor passed)
//   BM_Open/shm_raw        shm_open + fstat + mmap (+ munmap + close) of a segment
//                          of the same size
//   BM_Open/mmmd_ping      a ping request to mmmd (its round trip, no work)
//   BM_Open/described_interleaved  open<Particle> (a described struct: nested
//                          structs, an enum, an array; its schema is compared field
//                          by field), open<Opaque> of the same size and alignment
//                          without a schema, and open<uint64_t> of 48 bytes,
//                          rotating within one benchmark; described / opaque is
//                          the cost of the schema (#16)
// Growing a chunk (#19):
//   BM_Grow/interleaved    resize of a growable chunk by 1 GiB (mmmd reserves and
//                          zeroes the new pages, logs and publishes the new count)
//                          vs posix_fallocate of the same 1 GiB on a raw segment,
//                          alternating; each is shrunk back untimed in between
// Create + remove, ops/s over 1 and 8 client processes:
//   BM_CreateRemove/mmm/procs:N   create<uint64_t>(name, 512), unmap, remove
//   BM_CreateRemove/raw/procs:N   shm_open(O_CREAT|O_EXCL) + posix_fallocate(4 KiB)
//                                 + mmap + munmap + close + shm_unlink
//   BM_CreateRemove/floor/procs:N the raw work plus two pings to mmmd (one after
//                                 the mmap, one before the unlink): what any design
//                                 pays that checks both create and remove with mmmd
//                                 over its socket, with mmmd doing no work at all
#include "support/bench_support.hpp"

#include "client_core.hpp"
#include "protocol.hpp"

#include <boost/describe.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <vector>

namespace bench_types {

enum class Kind : std::uint8_t { gas, dust };

struct Vec3 {
    float x, y, z;
};
BOOST_DESCRIBE_STRUCT(Vec3, (), (x, y, z))

// The struct of examples/particles.cpp: 48 bytes, 11 leaf fields, two levels.
struct Particle {
    Vec3 position;
    Vec3 velocity;
    float mass;
    Kind kind;
    std::array<std::int32_t, 4> neighbours;
};
BOOST_DESCRIBE_STRUCT(Particle, (), (position, velocity, mass, kind, neighbours))

// The same size and alignment, stored without a schema.
struct Opaque {
    alignas(4) unsigned char bytes[sizeof(Particle)];
};

}  // namespace bench_types

template <>
inline constexpr bool mmm::opaque_schema_v<bench_types::Opaque> = true;

namespace {

using mmm_bench::client;
using mmm_bench::Clock;
using mmm_bench::guarded;

std::runtime_error sys_error(const std::string& what) {
    return std::runtime_error(what + ": " + std::strerror(errno));
}

// The chunk every open benchmark opens (created once, removed at teardown).
const std::string& open_target() {
    static const std::string name = [] {
        std::string n = mmm_bench::unique_name("open-target");
        client().create<std::uint64_t>(n, 1);
        mmm_bench::at_teardown([n] { client().remove(n); });
        return n;
    }();
    return name;
}

template <class Body>
void sample_each(benchmark::State& state, Body&& op) {
    mmm_bench::Samples samples;
    for (auto _ : state) {
        auto t0 = Clock::now();
        op();
        samples.add(mmm_bench::ns_between(t0, Clock::now()));
    }
    samples.report(state);
}

void BM_Open_mmm(benchmark::State& state) {
    guarded(state, [&] {
        const std::string& name = open_target();
        auto& c = client();
        sample_each(state, [&] {
            auto mc = c.open<std::uint64_t>(name);
            benchmark::DoNotOptimize(mc.span().data());
        });
    });
}

void BM_Open_mmmd_ping(benchmark::State& state) {
    guarded(state, [&] {
        mmm::detail::ClientCore core(mmm_bench::daemon().client_options());
        sample_each(state, [&] { core.call(mmm::proto::PingRequest{}); });
    });
}

// open<Particle> against open<> of the same geometry (one 48-byte element,
// align 4) with no schema (opaque: what every open was before schemas), and
// against open<uint64_t> (six elements), rotating so that all three see the
// same moments of a noisy VM.
void BM_Open_described_interleaved(benchmark::State& state) {
    guarded(state, [&] {
        using bench_types::Opaque;
        using bench_types::Particle;
        auto& c = client();
        const std::string described = mmm_bench::unique_name("open-described");
        const std::string opaque = mmm_bench::unique_name("open-opaque");
        const std::string scalar = mmm_bench::unique_name("open-scalar");
        c.create<Particle>(described, 1);
        c.create<Opaque>(opaque, 1);
        c.create<std::uint64_t>(scalar, sizeof(Particle) / sizeof(std::uint64_t));
        mmm_bench::at_teardown([described, opaque, scalar] {
            for (const auto* n : {&described, &opaque, &scalar}) client().remove(*n);
        });
        mmm_bench::Samples ns[3];  // described, opaque, scalar
        int first = 0;
        for (auto _ : state) {
            for (int k = 0; k < 3; ++k) {
                const int variant = (first + k) % 3;
                auto t0 = Clock::now();
                if (variant == 0) {
                    auto mc = c.open<Particle>(described);
                    benchmark::DoNotOptimize(mc.span().data());
                } else if (variant == 1) {
                    auto mc = c.open<Opaque>(opaque);
                    benchmark::DoNotOptimize(mc.span().data());
                } else {
                    auto mc = c.open<std::uint64_t>(scalar);
                    benchmark::DoNotOptimize(mc.span().data());
                }
                ns[variant].add(mmm_bench::ns_between(t0, Clock::now()));
            }
            first = (first + 1) % 3;
        }
        ns[0].report(state, "described_");
        ns[1].report(state, "opaque_");
        ns[2].report(state, "scalar_");
        state.counters["ratio"] = ns[0].quantile(0.5) / ns[1].quantile(0.5);
    });
}

// Sizes of a real open request and its reply frame.
std::pair<std::size_t, std::size_t> open_message_sizes() {
    const std::string& name = open_target();
    mmm::proto::OpenRequest req;
    req.name = name;
    req.type = mmm::detail::element_type_of<std::uint64_t>();
    auto request = mmm::proto::encode_request(req, 1);
    return {request.size(), mmm_bench::info_reply_bytes(client().info(name))};
}

void BM_Open_socket_rtt(benchmark::State& state) {
    guarded(state, [&] {
        auto [req_bytes, reply_bytes] = open_message_sizes();
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
            throw sys_error("socketpair");
        pid_t child = mmm_bench::fork_child([&] {
            ::close(sv[0]);
            std::vector<char> in(req_bytes), out(reply_bytes, 'r');
            while (mmm_bench::recv_exact(sv[1], in.data(), in.size()))
                if (!mmm_bench::send_exact(sv[1], out.data(), out.size())) return 1;
            return 0;
        });
        ::close(sv[1]);
        std::vector<char> req(req_bytes, 'q'), reply(reply_bytes);
        sample_each(state, [&] {
            if (!mmm_bench::send_exact(sv[0], req.data(), req.size()) ||
                !mmm_bench::recv_exact(sv[0], reply.data(), reply.size()))
                throw std::runtime_error("echo peer went away");
        });
        ::close(sv[0]);
        if (mmm_bench::reap(child, 10.0) != 0) mmm_bench::fail(state, "echo child failed");
        state.counters["request_bytes"] = static_cast<double>(req_bytes);
        state.counters["reply_bytes"] = static_cast<double>(reply_bytes);
    });
}

void BM_Open_shm_raw(benchmark::State& state) {
    guarded(state, [&] {
        const std::size_t bytes = client().info(open_target()).segment_bytes;
        const std::string seg = mmm_bench::raw_segment_name("open");
        {
            int fd = ::shm_open(seg.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
            if (fd < 0) throw sys_error("shm_open " + seg);
            int err = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes));
            ::close(fd);
            if (err != 0) throw std::runtime_error("posix_fallocate failed");
        }
        sample_each(state, [&] {
            int fd = ::shm_open(seg.c_str(), O_RDWR | O_CLOEXEC, 0);
            if (fd < 0) throw sys_error("shm_open");
            struct stat st {};
            if (::fstat(fd, &st) != 0) throw sys_error("fstat");
            void* p = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ | PROT_WRITE,
                             MAP_SHARED, fd, 0);
            if (p == MAP_FAILED) throw sys_error("mmap");
            benchmark::DoNotOptimize(p);
            ::munmap(p, static_cast<std::size_t>(st.st_size));
            ::close(fd);
        });
        ::shm_unlink(seg.c_str());
        state.counters["segment_bytes"] = static_cast<double>(bytes);
    });
}

// --- grow ------------------------------------------------------------------------

constexpr std::uint64_t kGrowBytes = std::uint64_t{1} << 30;

void BM_Grow_interleaved(benchmark::State& state) {
    guarded(state, [&] {
        const std::uint64_t grow = mmm_bench::pick(kGrowBytes, std::uint64_t{16} << 20);
        const std::size_t base = 512;  // uint64_t: 4 KiB, page-aligned past the header
        const std::size_t grown = base + grow / sizeof(std::uint64_t);
        auto& c = client();
        const std::string name = mmm_bench::unique_name("grow");
        mmm::CreateOptions options;
        options.max_count = grown;
        auto mc = c.create<std::uint64_t>(name, base, options);
        mmm_bench::at_teardown([name] { client().remove(name); });

        const std::string seg = mmm_bench::raw_segment_name("grow");
        int fd = ::shm_open(seg.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) throw sys_error("shm_open " + seg);
        ::shm_unlink(seg.c_str());  // the fd keeps it; nothing to leak
        const off_t raw_base = static_cast<off_t>(mc.info().segment_bytes - grow);
        if (::ftruncate(fd, static_cast<off_t>(mc.info().segment_bytes)) != 0)
            throw sys_error("ftruncate");

        double mmm_s = 0, raw_s = 0;
        bool mmm_first = true;
        for (auto _ : state) {
            for (int k = 0; k < 2; ++k) {
                const bool do_mmm = (k == 0) == mmm_first;
                auto t0 = Clock::now();
                if (do_mmm) {
                    mc.resize(grown);
                } else if (int err = ::posix_fallocate(fd, raw_base, static_cast<off_t>(grow))) {
                    errno = err;
                    throw sys_error("posix_fallocate");
                }
                (do_mmm ? mmm_s : raw_s) += mmm_bench::seconds_between(t0, Clock::now());
                if (do_mmm) {
                    mc.resize(base);
                } else if (::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, raw_base,
                                       static_cast<off_t>(grow)) != 0) {
                    throw sys_error("fallocate punch");
                }
            }
            mmm_first = !mmm_first;
        }
        ::close(fd);
        const double n = static_cast<double>(state.iterations());
        state.counters["mmm_ms"] = mmm_s / n * 1e3;
        state.counters["fallocate_ms"] = raw_s / n * 1e3;
        state.counters["ratio"] = raw_s / mmm_s;  // >= 1: mmm as fast as fallocate
        state.counters["grow_bytes"] = static_cast<double>(grow);
    });
}

// --- create + remove ------------------------------------------------------------

constexpr std::size_t kCreateCount = 512;  // uint64_t: 4 KiB of elements
constexpr std::size_t kRawBytes = kCreateCount * sizeof(std::uint64_t);

int mmm_worker(const mmm::ClientOptions& options, mmm_bench::StartGate& gate, std::size_t ops) {
    mmm::Client c(options);
    const std::string stem = "cr-" + std::to_string(::getpid()) + "-";
    gate.arrive_and_wait();
    for (std::size_t k = 0; k < ops; ++k) {
        const std::string name = stem + std::to_string(k);
        { auto mc = c.create<std::uint64_t>(name, kCreateCount); }
        c.remove(name);
    }
    return 0;
}

// `pings`: the floor variant's connection to mmmd, or null for the raw one.
int raw_worker(mmm_bench::StartGate& gate, std::size_t ops, const mmm::ClientOptions* pings) {
    const std::string stem = mmm_bench::raw_segment_name("cr-" + std::to_string(::getpid()) + "-");
    std::optional<mmm::detail::ClientCore> core;
    if (pings) core.emplace(*pings);
    auto ping = [&] {
        if (core) core->call(mmm::proto::PingRequest{});
    };
    gate.arrive_and_wait();
    for (std::size_t k = 0; k < ops; ++k) {
        const std::string seg = stem + std::to_string(k);
        int fd = ::shm_open(seg.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) return 2;
        if (::posix_fallocate(fd, 0, kRawBytes) != 0) return 3;
        void* p = ::mmap(nullptr, kRawBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) return 4;
        ping();
        ::munmap(p, kRawBytes);
        ::close(fd);
        ping();
        if (::shm_unlink(seg.c_str()) != 0) return 5;
    }
    return 0;
}

enum class CreateVariant { mmm, raw, floor };

template <CreateVariant kVariant>
void BM_CreateRemove(benchmark::State& state) {
    guarded(state, [&] {
        const int procs = static_cast<int>(state.range(0));
        const std::size_t ops = mmm_bench::pick(procs == 1 ? 1500 : 300, 10);
        const auto options = mmm_bench::daemon().client_options();
        for (auto _ : state) {
            mmm_bench::StartGate gate;
            std::vector<pid_t> kids;
            for (int p = 0; p < procs; ++p)
                kids.push_back(mmm_bench::fork_child([&] {
                    switch (kVariant) {
                        case CreateVariant::mmm:
                            return mmm_worker(options, gate, ops);
                        case CreateVariant::raw:
                            return raw_worker(gate, ops, nullptr);
                        case CreateVariant::floor:
                            return raw_worker(gate, ops, &options);
                    }
                    return 1;
                }));
            gate.wait_ready(procs);
            auto t0 = Clock::now();
            gate.release(procs);
            int failed = 0;
            for (pid_t k : kids) failed += mmm_bench::reap(k, 120.0) != 0;
            auto t1 = Clock::now();
            if (failed) throw std::runtime_error(std::to_string(failed) + " worker(s) failed");
            const double s = mmm_bench::seconds_between(t0, t1);
            state.SetIterationTime(s);
            state.counters["ops_per_s"] = static_cast<double>(procs) * static_cast<double>(ops) / s;
            state.counters["ops"] = static_cast<double>(procs) * static_cast<double>(ops);
        }
    });
}

}  // namespace

BENCHMARK(BM_Open_mmm)->Name("BM_Open/mmm");
BENCHMARK(BM_Open_socket_rtt)->Name("BM_Open/socket_rtt");
BENCHMARK(BM_Open_shm_raw)->Name("BM_Open/shm_raw");
BENCHMARK(BM_Open_mmmd_ping)->Name("BM_Open/mmmd_ping");
BENCHMARK(BM_Open_described_interleaved)->Name("BM_Open/described_interleaved");
BENCHMARK(BM_Grow_interleaved)
    ->Name("BM_Grow/interleaved")
    ->Iterations(4)
    ->Unit(benchmark::kMillisecond);

BENCHMARK_TEMPLATE(BM_CreateRemove, CreateVariant::mmm)
    ->Name("BM_CreateRemove/mmm")
    ->ArgName("procs")
    ->Arg(1)
    ->Arg(8)
    ->Iterations(1)
    ->UseManualTime();
BENCHMARK_TEMPLATE(BM_CreateRemove, CreateVariant::raw)
    ->Name("BM_CreateRemove/raw")
    ->ArgName("procs")
    ->Arg(1)
    ->Arg(8)
    ->Iterations(1)
    ->UseManualTime();
BENCHMARK_TEMPLATE(BM_CreateRemove, CreateVariant::floor)
    ->Name("BM_CreateRemove/floor")
    ->ArgName("procs")
    ->Arg(1)
    ->Arg(8)
    ->Iterations(1)
    ->UseManualTime();

MMM_BENCH_MAIN();
