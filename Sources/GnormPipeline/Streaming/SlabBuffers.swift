import Foundation

/// The two slab buffers of the last dataset streamed, kept for the next one of the same
/// size. Over many small files, fresh buffers for each file cost a quarter of the time
/// (page faults on first touch, munmap's TLB flush, and slower copies into the page cache
/// from cold pages). Only an exact size is reused, so a kept buffer never holds more
/// memory than `MemoryPlan` gave the dataset that uses it; `keepOnly` frees the others
/// as soon as the next dataset's plan is known.
enum SlabBuffers {
    private static let lock = NSLock()
    // Guarded by `lock`.
    private static let keptBuffers = ProcessGlobal<[UnsafeMutableRawBufferPointer]>([])
    private static var kept: [UnsafeMutableRawBufferPointer] {
        get { keptBuffers.value }
        set { keptBuffers.value = newValue }
    }

    /// A buffer of `byteCount` bytes, 64-byte aligned: a kept one, or a new one.
    static func take(byteCount: Int) -> UnsafeMutableRawBufferPointer {
        let reused = lock.withLock { () -> UnsafeMutableRawBufferPointer? in
            if let index = kept.firstIndex(where: { $0.count == byteCount }) { return kept.remove(at: index) }
            for buffer in kept { buffer.deallocate() }
            kept.removeAll()
            return nil
        }
        return reused ?? .allocate(byteCount: byteCount, alignment: 64)
    }

    /// Frees the kept buffers unless they are `byteCount` bytes (nil: frees them all): called
    /// when a dataset's memory is planned, before anything else of its budget is allocated.
    static func keepOnly(byteCount: Int?) {
        let dropped = lock.withLock { () -> [UnsafeMutableRawBufferPointer] in
            let (keep, drop) = (kept.filter { $0.count == byteCount }, kept.filter { $0.count != byteCount })
            kept = keep
            return drop
        }
        for buffer in dropped { buffer.deallocate() }
    }

    /// Keeps `buffer` for a later `take` (at most two: one slab pipeline's).
    static func give(_ buffer: UnsafeMutableRawBufferPointer) {
        let dropped = lock.withLock { () -> UnsafeMutableRawBufferPointer? in
            kept.append(buffer)
            return kept.count > 2 ? kept.removeFirst() : nil
        }
        dropped?.deallocate()
    }
}
