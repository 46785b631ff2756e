// mmm._mmm: the extension half of the Python package mmm (python/mmm/ is the
// other half: exceptions, SharedMemory, re-exports).
//
// Lifetimes: a chunk's mapping (an mmm::AnyChunk) is owned by a shared_ptr
// held by a Mapping object, which every numpy array and memoryview handed out
// references as its base or exporter. Chunk.close() only drops the Chunk's
// reference, so memory is never unmapped under a live view.
//
// The GIL: every call that talks to mmmd or may wait releases it. Waits
// (open with wait=, lock, wait_for_change) run in slices of kWaitSlice with
// the GIL released and check for signals between slices, so Ctrl-C
// interrupts them with KeyboardInterrupt.
#include "schema_dtype.hpp"

#include <element_type.hpp>  // src/: the one rule of type compatibility
#include <mmm/mmm.hpp>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>

namespace py = pybind11;
using namespace pybind11::literals;

namespace mmm::python {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::nanoseconds;

// How long a wait runs with the GIL released before it checks for signals.
constexpr nanoseconds kWaitSlice = std::chrono::milliseconds(50);

// --- errors ---------------------------------------------------------------------

// mmm::Error -> the subclass of mmm.Error for its code (python/mmm/_errors.py).
void raise_error(const Error& e) {
    static auto* from_native =
        new py::object(py::module_::import("mmm._errors").attr("_from_native"));
    py::object exc =
        (*from_native)(static_cast<int>(e.code()), e.chunk(), e.message(), e.hint(), e.what());
    PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
}

[[noreturn]] void invalid_argument(const std::string& chunk, const std::string& message) {
    throw Error(Errc::invalid_argument, chunk, message);
}

// Seconds (a float; None: forever) as a timeout.
std::optional<nanoseconds> seconds_arg(const py::object& seconds, const char* what) {
    if (seconds.is_none()) return std::nullopt;
    const double s = seconds.cast<double>();
    if (!(s >= 0) || !std::isfinite(s))
        invalid_argument({}, std::string(what) + " must be a number of seconds >= 0 (or None)");
    return std::chrono::duration_cast<nanoseconds>(std::chrono::duration<double>(s));
}

// Runs `attempt(slice)` with the GIL released until it returns true (true)
// or `timeout` has passed (false); checks for signals between slices.
template <class Attempt>
bool interruptible_wait(std::optional<nanoseconds> timeout, Attempt&& attempt) {
    const auto deadline = timeout ? Clock::now() + *timeout : Clock::time_point::max();
    for (;;) {
        const auto now = Clock::now();
        const nanoseconds left =
            timeout
                ? std::max(nanoseconds(0), std::chrono::duration_cast<nanoseconds>(deadline - now))
                : kWaitSlice;
        bool done = false;
        {
            py::gil_scoped_release nogil;
            done = attempt(std::min(left, kWaitSlice));
        }
        if (done) return true;
        if (PyErr_CheckSignals() != 0) throw py::error_already_set();
        if (timeout && Clock::now() >= deadline) return false;
    }
}

std::string seconds_text(nanoseconds d) {
    const double s = std::chrono::duration<double>(d).count();
    std::string text = std::to_string(s);
    text.erase(text.find_last_not_of('0') + 1);
    if (text.back() == '.') text.pop_back();
    return text + " s";
}

// --- the mapping ----------------------------------------------------------------

// Owns the mapping for as long as any array, memoryview or Chunk uses it.
struct Mapping {
    std::shared_ptr<AnyChunk> chunk;
};

py::buffer_info mapping_buffer(Mapping& m) {
    const auto bytes = static_cast<py::ssize_t>(m.chunk->size() * m.chunk->element_size());
    return py::buffer_info(m.chunk->data(), 1, py::format_descriptor<std::uint8_t>::format(), 1,
                           {bytes}, {1}, m.chunk->read_only());
}

// --- locks ----------------------------------------------------------------------

class Lock {
  public:
    Lock(std::shared_ptr<AnyChunk> chunk, ChunkLock lock)
        : chunk_(std::move(chunk)), lock_(std::move(lock)) {}
    bool previous_owner_died() const { return lock_.previous_owner_died(); }
    bool locked() const { return lock_.owns_lock(); }
    void unlock() { lock_.unlock(); }

  private:
    std::shared_ptr<AnyChunk> chunk_;  // declared first: the lock is released before the unmap
    ChunkLock lock_;
};

// --- chunks ---------------------------------------------------------------------

class Chunk {
  public:
    Chunk(AnyChunk chunk, py::object dtype)
        : name_(chunk.name()),
          chunk_(std::make_shared<AnyChunk>(std::move(chunk))),
          mapping_(py::cast(Mapping{chunk_})),
          dtype_(std::move(dtype)) {}

    const std::string& name() const { return name_; }
    bool closed() const { return chunk_ == nullptr; }
    void close() {
        chunk_.reset();
        mapping_ = py::none();
        array_ = py::none();
    }
    std::size_t size() const { return live()->size(); }
    std::size_t max_size() const { return live()->max_size(); }
    std::size_t element_size() const { return live()->element_size(); }
    bool readonly() const { return live()->read_only(); }
    bool single_writer() const { return live()->single_writer(); }
    const std::string& type_name() const { return live()->type_name(); }
    Schema schema() const { return live()->schema(); }

    py::object dtype() {
        auto& c = live();
        if (dtype_.is_none()) dtype_ = dtype_of(c->schema());
        return dtype_;
    }

    // The whole chunk as one numpy array on the mapping: shape (size,) plus the
    // element's subarray shape, if any. Made again when the chunk's size moved
    // (a resize here or in another process); arrays made before stay valid.
    py::object array() {
        auto& c = live();
        if (!array_.is_none() && array_size_ == c->size()) return array_;
        py::object dt = dtype();
        py::object sub = dt.attr("subdtype");
        py::dtype base = sub.is_none() ? py::dtype::from_args(dt)
                                       : py::dtype::from_args(sub.cast<py::tuple>()[0]);
        std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(c->size())};
        if (!sub.is_none())
            for (auto d : sub.cast<py::tuple>()[1].cast<std::vector<py::ssize_t>>())
                shape.push_back(d);
        std::vector<py::ssize_t> strides(shape.size());
        py::ssize_t stride = base.itemsize();
        for (std::size_t i = shape.size(); i-- > 0;) {
            strides[i] = stride;
            stride *= shape[i];
        }
        strides[0] = static_cast<py::ssize_t>(c->element_size());
        py::array a(base, shape, strides, c->data(), mapping_);
        if (c->read_only())
            py::detail::array_proxy(a.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
        array_ = a;
        array_size_ = static_cast<std::size_t>(shape[0]);
        return array_;
    }

    py::memoryview buf() {
        live();
        return py::memoryview(
            py::reinterpret_steal<py::object>(PyMemoryView_FromObject(mapping_.ptr())));
    }

    py::object read(std::int64_t index) {
        auto& c = live();
        const std::size_t i = element_index(index);
        py::array out = numpy().attr("empty")(1, dtype());
        c->read_bytes(i, std::span<std::byte>(static_cast<std::byte*>(out.mutable_data()),
                                              c->element_size()));
        return out[py::int_(0)];
    }

    void write(std::int64_t index, const py::object& value) {
        auto& c = live();
        const std::size_t i = element_index(index);
        if (py::isinstance<py::bytes>(value) || py::isinstance<py::bytearray>(value) ||
            py::isinstance<py::memoryview>(value)) {
            py::buffer_info b = py::reinterpret_borrow<py::buffer>(value).request();
            const auto n = static_cast<std::size_t>(b.size * b.itemsize);
            if (n != c->element_size())
                invalid_argument(name_, "write(" + std::to_string(i) + "): " + std::to_string(n) +
                                            " bytes given for an element of " +
                                            std::to_string(c->element_size()));
            c->write_bytes(i, std::span<const std::byte>(static_cast<const std::byte*>(b.ptr), n));
            return;
        }
        py::array tmp = numpy().attr("zeros")(1, dtype());
        tmp[py::int_(0)] = value;
        c->write_bytes(i, std::span<const std::byte>(static_cast<const std::byte*>(tmp.data()),
                                                     c->element_size()));
    }

    std::uint32_t version() const { return live()->version(); }

    py::object wait_for_change(std::uint32_t since, const py::object& timeout) {
        std::shared_ptr<AnyChunk> c = live();  // a copy: close() may run meanwhile
        std::optional<std::uint32_t> seen;
        interruptible_wait(seconds_arg(timeout, "timeout"), [&](nanoseconds slice) {
            seen = c->wait_for_change(since, slice);
            return seen.has_value();
        });
        return seen ? py::object(py::int_(*seen)) : py::object(py::none());
    }

    Lock lock(const py::object& timeout) {
        std::shared_ptr<AnyChunk> c = live();
        const auto limit = seconds_arg(timeout, "timeout");
        ChunkLock held;
        const bool got = interruptible_wait(limit, [&](nanoseconds slice) {
            held = c->try_lock_for(slice);
            return held.owns_lock();
        });
        if (!got)
            throw Error(Errc::timeout, name_,
                        "the chunk's lock was not free within " + seconds_text(*limit),
                        "its holder may be stuck; mmmctl info " + name_ + " lists who has it open");
        return Lock(std::move(c), std::move(held));
    }

    ChunkInfo info() const {
        std::shared_ptr<AnyChunk> c = live();
        py::gil_scoped_release nogil;
        return c->info();
    }
    void remove() {
        std::shared_ptr<AnyChunk> c = live();
        py::gil_scoped_release nogil;
        c->remove();
    }
    bool deleted() const { return live()->deleted(); }

    void resize(std::int64_t count) {
        std::shared_ptr<AnyChunk> c = live();
        if (count < 1)
            invalid_argument(name_, "count must be at least 1, not " + std::to_string(count));
        {
            py::gil_scoped_release nogil;
            c->resize(static_cast<std::size_t>(count));
        }
        array_ = py::none();
    }

    std::string repr() const {
        if (!chunk_) return "<mmm.Chunk '" + name_ + "' (closed)>";
        return "<mmm.Chunk '" + name_ + "' " + std::to_string(chunk_->size()) + " x " +
               chunk_->schema().summary() + (chunk_->read_only() ? " read-only>" : " read-write>");
    }

  private:
    const std::shared_ptr<AnyChunk>& live() const {
        if (!chunk_) invalid_argument(name_, "chunk '" + name_ + "' is closed");
        return chunk_;
    }
    std::size_t element_index(std::int64_t index) const {
        const auto n = static_cast<std::int64_t>(chunk_->size());
        const std::int64_t i = index < 0 ? index + n : index;
        if (i < 0 || i >= n)
            throw Error(Errc::out_of_range, name_,
                        "index " + std::to_string(index) + " is out of range for chunk '" + name_ +
                            "' of " + std::to_string(n) + " elements");
        return static_cast<std::size_t>(i);
    }

    std::string name_;
    std::shared_ptr<AnyChunk> chunk_;
    py::object mapping_;
    py::object dtype_;
    py::object array_ = py::none();
    std::size_t array_size_ = 0;  // the chunk's size when array_ was made
};

// --- client -----------------------------------------------------------------------

Lifetime lifetime_arg(const std::string& s) {
    if (s == "persistent") return Lifetime::persistent;
    if (s == "session") return Lifetime::session;
    invalid_argument({}, "lifetime must be 'persistent' or 'session', not '" + s + "'");
}

HugePages huge_pages_arg(const std::string& s) {
    if (s == "auto") return HugePages::automatic;
    if (s == "never") return HugePages::never;
    if (s == "always") return HugePages::always;
    invalid_argument({}, "huge_pages must be 'auto', 'never' or 'always', not '" + s + "'");
}

// Checks that a chunk may be viewed with `dtype`: equal schemas (and the rule
// of C++ open<T>, src/element_type.cpp), or raw bytes of the element's size.
void check_dtype(const AnyChunk& chunk, const py::object& dtype) {
    const std::size_t size = dtype.attr("itemsize").cast<std::size_t>();
    if (is_raw_void(dtype) || chunk.schema().is_opaque()) {
        if (size == chunk.element_size()) return;
        throw Error(Errc::type_mismatch, chunk.name(),
                    "the chunk's elements are " + std::to_string(chunk.element_size()) +
                        " bytes but the dtype " + py::repr(dtype).cast<std::string>() + " has " +
                        std::to_string(size),
                    "open it without a dtype to get the chunk's own (mmmctl info " + chunk.name() +
                        " shows it)");
    }
    const Schema wanted = schema_of(dtype);
    const detail::ElementType held{chunk.type_name(), chunk.element_size(), chunk.schema().align(),
                                   chunk.schema()};
    const detail::ElementType as{{}, wanted.size(), wanted.align(), wanted};
    if (std::string mismatch = detail::type_mismatch(held, as); !mismatch.empty())
        throw Error(Errc::type_mismatch, chunk.name(), mismatch,
                    "open it without a dtype to get the chunk's own (mmmctl info " + chunk.name() +
                        " shows it)");
}

Chunk open_chunk(Client& client, const std::string& name, const py::object& dtype_like,
                 bool readonly, const py::object& wait) {
    const Access access = readonly ? Access::read_only : Access::read_write;
    const auto limit = seconds_arg(wait, "wait");
    AnyChunk chunk;
    if (!limit || *limit == nanoseconds(0)) {
        py::gil_scoped_release nogil;
        chunk = client.open_any(name, access);
    } else {
        bool opened = interruptible_wait(limit, [&](nanoseconds slice) {
            try {
                const auto ms =
                    std::max(std::chrono::milliseconds(1),
                             std::chrono::duration_cast<std::chrono::milliseconds>(slice));
                chunk = client.open_any(name, access, OpenOptions{.wait = ms});
                return true;
            } catch (const Error& e) {
                if (e.code() != Errc::timeout) throw;
                return false;
            }
        });
        if (!opened)
            throw Error(Errc::timeout, name,
                        "no chunk '" + name + "' was created within " + seconds_text(*limit),
                        "start the program that creates it, or wait longer");
    }
    py::object dtype = py::none();
    if (!dtype_like.is_none()) {
        dtype = numpy().attr("dtype")(dtype_like);
        check_dtype(chunk, dtype);
    }
    return Chunk(std::move(chunk), dtype);
}

Chunk create_chunk(Client& client, const std::string& name, const py::object& dtype_like,
                   std::int64_t count, std::uint32_t mode, const std::string& lifetime,
                   bool single_writer, const std::optional<std::string>& type_name, bool populate,
                   const std::optional<std::int64_t>& max_count, const std::string& huge_pages) {
    if (count < 1) invalid_argument(name, "count must be at least 1, not " + std::to_string(count));
    if (max_count && *max_count < count)
        invalid_argument(name, "max_count " + std::to_string(*max_count) + " is below count " +
                                   std::to_string(count));
    py::object dtype = numpy().attr("dtype")(dtype_like);
    const std::string tn = type_name.value_or("");
    const Schema schema = schema_of(dtype, tn);
    CreateOptions options;
    options.mode = mode;
    options.lifetime = lifetime_arg(lifetime);
    options.single_writer = single_writer;
    options.populate = populate;
    options.max_count = max_count ? static_cast<std::uint64_t>(*max_count) : 0;
    options.huge_pages = huge_pages_arg(huge_pages);
    AnyChunk chunk;
    {
        py::gil_scoped_release nogil;
        chunk = client.create_any(name, schema, static_cast<std::size_t>(count), options, tn);
    }
    return Chunk(std::move(chunk), dtype);
}

double seconds_since_epoch(std::chrono::system_clock::time_point t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
}

std::string info_repr(const ChunkInfo& i) {
    return "<mmm.ChunkInfo '" + i.name + "' " + std::to_string(i.count) + " x " +
           i.schema.summary() + (i.type_name.empty() ? "" : " (" + i.type_name + ")") + ", " +
           std::to_string(i.bytes) + " bytes>";
}

}  // namespace
}  // namespace mmm::python

PYBIND11_MODULE(_mmm, m) {
    using namespace mmm;
    using namespace mmm::python;
    m.doc() = "The extension half of the package mmm; import mmm, not this.";

    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const Error& e) {
            raise_error(e);
        }
    });

    py::class_<Schema>(m, "Schema", R"doc(
What the bytes of one element mean: a tree of scalars, arrays and records
(named fields at offsets), or opaque bytes. Every chunk stores one.
Two schemas are equal when their trees are (record names are not compared).
str() is a C-like declaration with offsets; summary() is one line.)doc")
        .def_property_readonly("size", &Schema::size, "Bytes of one element.")
        .def_property_readonly("align", &Schema::align, "Alignment of one element.")
        .def_property_readonly("is_opaque", &Schema::is_opaque,
                               "True when nothing is known but the size and alignment.")
        .def("summary", &Schema::summary, "One line: '{x: int32, y: int32}'.")
        .def("__str__", &Schema::to_string)
        .def("__repr__", [](const Schema& s) { return "<mmm.Schema " + s.summary() + ">"; })
        .def("__eq__", [](const Schema& a, const Schema& b) { return a == b; })
        .def("__eq__", [](const Schema&, const py::object&) { return false; })
        .attr("__hash__") = py::none();

    m.def(
        "schema_of",
        [](const py::object& dtype, const std::string& name) { return schema_of(dtype, name); },
        "dtype"_a, "name"_a = "", R"doc(
The mmm.Schema of a numpy dtype (anything np.dtype() accepts): what
Client.create stores. Raises ValueError for a dtype mmm cannot describe
(complex, float16, unicode, objects, non-native byte order, misaligned
fields of a packed structured dtype: use np.dtype(fields, align=True)).)doc");
    m.def("dtype_of", &dtype_of, "schema"_a, R"doc(
The numpy dtype of one element of `schema`: structured for records (made with
align=True), a subarray for arrays, ('u1', (size,)) for an opaque element.)doc");

    py::class_<Mapping>(m, "Mapping", py::buffer_protocol(), R"doc(
One process's mapping of a chunk: the base of every array and the exporter
of every memoryview handed out. The memory stays mapped while any of them,
or the Chunk, exists.)doc")
        .def_buffer(&mapping_buffer);

    py::class_<Lock>(m, "Lock", R"doc(
A held chunk lock (Chunk.lock()): exclusive across processes and robust (when
a holder dies, the next locker gets it with previous_owner_died True).
Release it in the thread that took it: use `with chunk.lock() as guard:`.
Releasing bumps the chunk's version and wakes waiters.)doc")
        .def_property_readonly("previous_owner_died", &Lock::previous_owner_died,
                               "True when the previous holder died holding the lock: the "
                               "elements it was updating may be half-written.")
        .def_property_readonly("locked", &Lock::locked, "True until unlock().")
        .def("unlock", &Lock::unlock, "Releases the lock (idempotent).")
        .def(
            "__enter__", [](Lock& l) -> Lock& { return l; }, py::return_value_policy::reference)
        .def("__exit__", [](Lock& l, const py::args&) { l.unlock(); });

    py::class_<Chunk>(m, "Chunk", R"doc(
One process's mapping of a named chunk: `size` elements of `dtype`.
Obtained from Client.create and Client.open. `array` is a numpy view of the
chunk's memory (no copy); `read`/`write` are checked, untorn accesses of one
element. close() (or leaving a `with` block) drops this object's hold on the
mapping; arrays and memoryviews taken from it stay valid. Methods may be
called from several threads.)doc")
        .def_property_readonly("name", &Chunk::name)
        .def_property_readonly("size", &Chunk::size, "Elements now.")
        .def("__len__", &Chunk::size)
        .def_property_readonly("max_size", &Chunk::max_size,
                               "Elements a resize may reach (size for a fixed chunk).")
        .def_property_readonly("element_size", &Chunk::element_size, "Bytes of one element.")
        .def_property_readonly("dtype", &Chunk::dtype, R"doc(
The numpy dtype of one element: from the chunk's schema, or the dtype given to
create/open. An opaque chunk's is ('u1', (element_size,)).)doc")
        .def_property_readonly("schema", &Chunk::schema, "The chunk's mmm.Schema.")
        .def_property_readonly("type_name", &Chunk::type_name,
                               "The element type's name as its creator gave it (may be empty).")
        .def_property_readonly("readonly", &Chunk::readonly,
                               "True for a read-only mapping (open(..., readonly=True)).")
        .def_property_readonly("single_writer", &Chunk::single_writer)
        .def_property_readonly("array", &Chunk::array, R"doc(
The chunk as a numpy array on its shared memory (zero copy), shape (size,)
plus the element's subarray shape. Not writeable for a read-only chunk. Raw
memory: element-consistent access needs read/write or the lock.)doc")
        .def(
            "__array__",
            [](Chunk& c, const py::object& dtype) {
                py::object a = c.array();
                return dtype.is_none() ? a : a.attr("astype")(dtype);
            },
            "dtype"_a = py::none())
        .def_property_readonly(
            "buf", &Chunk::buf,
            "A memoryview of the chunk's bytes (read-only for a read-only chunk).")
        .def("read", &Chunk::read, "index"_a, R"doc(
A copy of element `index` (negative counts from the end), never torn by a
concurrent write. Raises IndexError (mmm.OutOfRangeError) past the end.)doc")
        .def("write", &Chunk::write, "index"_a, "value"_a, R"doc(
Writes element `index` whole, untorn for concurrent readers, and bumps the
version. `value` is anything numpy can assign to one element (a tuple for a
structured dtype), or bytes of exactly element_size. Raises PermissionError
on a read-only chunk.)doc")
        .def("version", &Chunk::version,
             "The chunk's version: bumped by every write(), lock release and resize.")
        .def("wait_for_change", &Chunk::wait_for_change, "since"_a, "timeout"_a = py::none(),
             R"doc(
Sleeps until version() != since and returns the new version, or None after
`timeout` seconds (None: no limit). Releases the GIL; Ctrl-C interrupts it.)doc")
        .def("lock", &Chunk::lock, "timeout"_a = py::none(), R"doc(
Takes the chunk's exclusive, cross-process lock and returns an mmm.Lock (a
context manager). Raises mmm.TimeoutError after `timeout` seconds (None: no
limit), PermissionError on a read-only chunk. Releases the GIL while it
waits; Ctrl-C interrupts it.)doc")
        .def("info", &Chunk::info, "The chunk as mmmd knows it now (a round trip).")
        .def("remove", &Chunk::remove, R"doc(
Deletes the chunk (its owner or root). This mapping, and every view of it,
stays valid; new opens of the name fail with FileNotFoundError.)doc")
        .def_property_readonly("deleted", &Chunk::deleted, "True once someone removed the chunk.")
        .def("resize", &Chunk::resize, "count"_a, R"doc(
Grows or shrinks a growable chunk (created with max_count) in place: no
remap, so arrays and memoryviews made before stay valid (an array keeps the
length it was made with; take chunk.array again for the new size). New
elements read zero. Needs a writable mapping and the chunk's owner or root.
Raises IndexError (mmm.OutOfRangeError) past max_size, mmm.NoSpaceError /
mmm.QuotaExceededError with the chunk unchanged.)doc")
        .def("close", &Chunk::close, R"doc(
Drops this object's hold on the mapping (idempotent); the memory is unmapped
when no array or memoryview of it is left. Never deletes the chunk.)doc")
        .def_property_readonly("closed", &Chunk::closed)
        .def(
            "__enter__", [](Chunk& c) -> Chunk& { return c; }, py::return_value_policy::reference)
        .def("__exit__", [](Chunk& c, const py::args&) { c.close(); })
        .def("__repr__", &Chunk::repr);

    py::class_<Attachment>(m, "Attachment", "A process that has a chunk mapped.")
        .def_readonly("pid", &Attachment::pid)
        .def_readonly("uid", &Attachment::uid)
        .def_readonly("writable", &Attachment::writable)
        .def("__repr__", [](const Attachment& a) {
            return "<mmm.Attachment pid " + std::to_string(a.pid) + " uid " +
                   std::to_string(a.uid) + (a.writable ? " rw>" : " ro>");
        });

    py::class_<ChunkInfo>(m, "ChunkInfo",
                          "A chunk as mmmd describes it (Client.list, Client.info).")
        .def_readonly("name", &ChunkInfo::name)
        .def_property_readonly("kind",
                               [](const ChunkInfo& i) { return std::string(to_string(i.kind)); })
        .def_readonly("type_name", &ChunkInfo::type_name)
        .def_readonly("type_fingerprint", &ChunkInfo::type_fingerprint)
        .def_readonly("element_size", &ChunkInfo::element_size)
        .def_readonly("element_align", &ChunkInfo::element_align)
        .def_readonly("schema", &ChunkInfo::schema)
        .def_property_readonly(
            "dtype", [](const ChunkInfo& i) { return dtype_of(i.schema); },
            "The numpy dtype of one element (from the schema).")
        .def_readonly("count", &ChunkInfo::count)
        .def_readonly("max_count", &ChunkInfo::max_count)
        .def_readonly("bytes", &ChunkInfo::bytes)
        .def_readonly("segment_bytes", &ChunkInfo::segment_bytes)
        .def_readonly("huge_pages", &ChunkInfo::huge_pages)
        .def_readonly("mode", &ChunkInfo::mode)
        .def_readonly("owner_uid", &ChunkInfo::owner_uid)
        .def_readonly("owner_gid", &ChunkInfo::owner_gid)
        .def_readonly("creator_pid", &ChunkInfo::creator_pid)
        .def_property_readonly(
            "lifetime", [](const ChunkInfo& i) { return std::string(to_string(i.lifetime)); })
        .def_property_readonly("state",
                               [](const ChunkInfo& i) { return std::string(to_string(i.state)); })
        .def_property_readonly(
            "created", [](const ChunkInfo& i) { return seconds_since_epoch(i.created); },
            "Creation time, in seconds since the epoch (as time.time()).")
        .def_readonly("generation", &ChunkInfo::generation)
        .def_readonly("segment", &ChunkInfo::segment)
        .def_readonly("problem", &ChunkInfo::problem)
        .def_readonly("single_writer", &ChunkInfo::single_writer)
        .def_readonly("writer_pid", &ChunkInfo::writer_pid)
        .def_readonly("attachments", &ChunkInfo::attachments)
        .def("__repr__", &info_repr);

    py::class_<Stats>(m, "Stats", "mmmd's counters and limits (Client.stats).")
        .def_readonly("daemon_pid", &Stats::daemon_pid)
        .def_readonly("runtime_dir", &Stats::runtime_dir)
        .def_readonly("name_space", &Stats::name_space)
        .def_readonly("segment_dir", &Stats::segment_dir)
        .def_readonly("huge_dir", &Stats::huge_dir)
        .def_readonly("chunks", &Stats::chunks)
        .def_readonly("quarantined", &Stats::quarantined)
        .def_readonly("bytes", &Stats::bytes)
        .def_readonly("max_bytes", &Stats::max_bytes)
        .def_readonly("max_chunks", &Stats::max_chunks)
        .def_readonly("max_chunk_bytes", &Stats::max_chunk_bytes)
        .def_readonly("connections", &Stats::connections)
        .def_readonly("requests", &Stats::requests)
        .def_readonly("uptime_ms", &Stats::uptime_ms);

    py::class_<Client>(m, "Client", R"doc(
A connection to mmmd, through which chunks are created, opened, listed and
removed. The runtime directory is found as in C++: runtime_dir, else
$MMM_RUNTIME_DIR; else the per-user daemon's ($XDG_RUNTIME_DIR/mmm, else
/tmp/mmm-<uid>), then the system-wide /run/mmm. Raises
ConnectionError (mmm.DaemonUnavailableError) when mmmd is not running.
One Client may be used from many threads; chunks keep working after the
Client is gone.)doc")
        .def(py::init([](const std::optional<std::string>& runtime_dir, double request_timeout,
                         const std::optional<std::string>& daemon_user) {
                 ClientOptions options;
                 options.runtime_dir = runtime_dir.value_or("");
                 options.daemon_user = daemon_user.value_or("");
                 if (!(request_timeout > 0))
                     invalid_argument({}, "request_timeout must be a number of seconds > 0");
                 options.request_timeout = std::chrono::milliseconds(
                     static_cast<std::int64_t>(std::ceil(request_timeout * 1000)));
                 py::gil_scoped_release nogil;
                 return std::make_unique<Client>(std::move(options));
             }),
             "runtime_dir"_a = py::none(), py::kw_only(), "request_timeout"_a = 10.0,
             "daemon_user"_a = py::none())
        .def("create", &create_chunk, "name"_a, "dtype"_a, "count"_a, py::kw_only(),
             "mode"_a = 0600, "lifetime"_a = "persistent", "single_writer"_a = false,
             "type_name"_a = py::none(), "populate"_a = false, "max_count"_a = py::none(),
             "huge_pages"_a = "auto", R"doc(
Creates chunk `name` of `count` zero-filled elements of `dtype` (scalar,
structured, nested, subarray fields) and returns it mapped read-write. The
dtype becomes the chunk's schema: a C++ open<T> succeeds when T's schema
equals it (and, if type_name is given, T's name is type_name).
mode: Unix permission bits checked by mmmd (0o600). lifetime: 'persistent'
(until removed) or 'session' (removed when this process's connection ends).
single_writer: at most one writable mapping at a time. populate: pre-fault
every page. max_count: a growable chunk, which resize() may take up to that
many elements (None: count, a fixed size). huge_pages: where the memory comes
from when mmmd has a huge-page directory (mmmd --huge-dir): 'auto' (chunks of
2 MiB and up), 'never', 'always' (an error without one).
Raises FileExistsError, ValueError (name, dtype, count),
PermissionError, mmm.QuotaExceededError, mmm.NoSpaceError.)doc")
        .def("open", &open_chunk, "name"_a, "dtype"_a = py::none(), "readonly"_a = false,
             "wait"_a = py::none(), R"doc(
Maps chunk `name`. Without a dtype, the dtype comes from its schema (bytes,
'u1' rows of element_size, for an opaque chunk); with one, it must describe
the same element (TypeError naming the field that differs otherwise), or be
raw bytes ('V<element_size>'), or, for an opaque chunk, have its size.
readonly: a read-only mapping (read-only arrays and memoryviews).
wait: seconds to wait for the chunk to be created (mmm.TimeoutError after);
releases the GIL and Ctrl-C interrupts it. Raises FileNotFoundError,
PermissionError, TypeError.)doc")
        .def(
            "list",
            [](Client& c) {
                py::gil_scoped_release nogil;
                return c.list();
            },
            "Every chunk this user may read, sorted by name (a list of ChunkInfo).")
        .def(
            "info",
            [](Client& c, const std::string& name) {
                py::gil_scoped_release nogil;
                return c.info(name);
            },
            "name"_a, "The ChunkInfo of one chunk; FileNotFoundError when there is none.")
        .def(
            "remove",
            [](Client& c, const std::string& name) {
                py::gil_scoped_release nogil;
                c.remove(name);
            },
            "name"_a, R"doc(
Deletes chunk `name` (its owner or root only). Mappings of it stay valid;
new opens get FileNotFoundError.)doc")
        .def(
            "resize",
            [](Client& c, const std::string& name, std::int64_t count) {
                if (count < 1)
                    invalid_argument(name,
                                     "count must be at least 1, not " + std::to_string(count));
                py::gil_scoped_release nogil;
                return c.resize(name, static_cast<std::size_t>(count));
            },
            "name"_a, "count"_a, R"doc(
Resizes growable chunk `name` to `count` elements (its owner or root only)
and returns its ChunkInfo. Raises IndexError (mmm.OutOfRangeError) past its
max_count, mmm.NoSpaceError / mmm.QuotaExceededError with the chunk unchanged.)doc")
        .def(
            "stats",
            [](Client& c) {
                py::gil_scoped_release nogil;
                return c.stats();
            },
            "mmmd's counters and limits.")
        .def_property_readonly("runtime_dir", &Client::runtime_dir);
}
