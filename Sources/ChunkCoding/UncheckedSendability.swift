// The one place ChunkCoding steps outside Swift's checked concurrency: each exception here, with
// the invariant that makes it safe (issue 22: one unsafe corner per module).

/// A slot's buffers and codec states are mutable and unguarded. A slot is used by one thread at a
/// time — the I/O thread fills or drains it between batches, one worker codes its chunk during a
/// batch, and the batch's end (`DispatchQueue.concurrentPerform` returning) orders the two — so it
/// crosses threads without a lock.
extension ZlibChunkSlot: @unchecked Sendable {}
