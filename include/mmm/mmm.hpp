// mmm: named, typed memory chunks shared between processes. One include for
// the whole API: Client, MemChunk<T>, AnyChunk, Heap, HeapLock, Schema,
// ChunkLock, ChunkInfo, Error and Errc.
#pragma once

#include <mmm/any_chunk.hpp>
#include <mmm/chunk_lock.hpp>
#include <mmm/client.hpp>
#include <mmm/error.hpp>
#include <mmm/heap.hpp>
#include <mmm/memchunk.hpp>
#include <mmm/options.hpp>
#include <mmm/schema.hpp>
#include <mmm/type_name.hpp>
