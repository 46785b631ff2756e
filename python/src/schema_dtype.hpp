// Element schemas (mmm::Schema) to numpy dtypes and back, for the Python
// package. The two directions are inverse for every schema numpy can say:
//
//   schema                 numpy
//   bool, char             '?', 'S1'
//   int8..uint64           'i1'..'u8' (native byte order)
//   float32, float64       'f4', 'f8'
//   array of T, extent N   subarray (T, (N,)); nested arrays become one shape
//   record                 structured dtype (names, formats, offsets, itemsize),
//                          made with align=True: its alignment is C's
//   opaque(size) field     'V<size>'
//
// A chunk whose element is opaque as a whole is shown as bytes: a subarray
// ('u1', (element_size,)). Everything else numpy has (complex, float16,
// strings wider than one byte map to char arrays, unicode, objects,
// datetimes, non-native byte order) has no schema: schema_of throws
// Errc::invalid_argument (a ValueError in Python) saying which.
#pragma once

#include <mmm/schema.hpp>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>

namespace mmm::python {

namespace py = pybind11;

// numpy, imported once and kept for the life of the process.
py::module_& numpy();

// The dtype of one element of `schema`.
py::object dtype_of(const Schema& schema);

// The schema of `dtype` (anything np.dtype() accepts). `record_name` names
// the root record (informational; Schema equality ignores it).
Schema schema_of(py::handle dtype, const std::string& record_name = {});

// True for a dtype of raw bytes: kind 'V' without fields or subarray
// (np.dtype('V16')); such a dtype views any element of its size.
bool is_raw_void(py::handle dtype);

}  // namespace mmm::python
