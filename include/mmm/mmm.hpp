// mmm: named, typed memory chunks shared between processes. One include for
// the whole API: Client, MemChunk<T>, AnyChunk, Schema, ChunkLock, ChunkInfo,
// Error and Errc. Heap chunks (Heap, HeapLock, mmm::heap containers) are
// <mmm/heap.hpp>, on its own: it brings in Boost.Interprocess's containers,
// which double the time to compile a file that includes mmm, so only files
// that use heaps pay for them.
#pragma once

#include <mmm/any_chunk.hpp>
#include <mmm/chunk_lock.hpp>
#include <mmm/client.hpp>
#include <mmm/error.hpp>
#include <mmm/memchunk.hpp>
#include <mmm/options.hpp>
#include <mmm/schema.hpp>
#include <mmm/type_name.hpp>
