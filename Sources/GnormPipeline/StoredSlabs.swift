import GroupNormKernel
import HDF5

/// Moves slabs between a dataset's stored type and the compute type `E`.
///
/// float16 is converted here, exactly (round to nearest, ties to even), and
/// HDF5 is handed bytes already in the file's type: libhdf5 1.10.8's software
/// float32 → float16 conversion rounds wrongly and runs bit by bit. Every
/// other stored type goes through HDF5's hardware conversions (integers and
/// floats to float/double, byte swapping), which are exact. Chunks of whole
/// samples filtered with [shuffle,] deflate go through `ParallelDeflate` when
/// the stored type is `E` itself or float16.
final class StoredSlabs<E: KernelElement & NativeElement> {
    private let halfStored: Bool
    private let bigEndian: Bool
    private let threadCount: Int
    /// float16 bits of one slab, shared with the other direction's `StoredSlabs`.
    private let staging: Staging

    /// A buffer reused for every slab; reads and writes both run on the I/O thread,
    /// so the input's and the output's conversions can share one.
    final class Staging {
        fileprivate var bits = UnsafeMutableBufferPointer<UInt16>(start: nil, count: 0)

        init() {}

        deinit { bits.deallocate() }

        fileprivate func buffer(count: Int) -> UnsafeMutableBufferPointer<UInt16> {
            if bits.count < count {
                bits.deallocate()
                bits = .allocate(capacity: count)
            }
            return UnsafeMutableBufferPointer(rebasing: bits[0..<count])
        }
    }

    init(elementType: ElementType, threadCount: Int, staging: Staging = Staging()) {
        if case .float(16, let order) = elementType {
            halfStored = true
            bigEndian = order
        } else {
            halfStored = false
            bigEndian = false
        }
        self.threadCount = threadCount
        self.staging = staging
    }

    /// Whether a stored element of this type takes a float16 staging buffer.
    static func stages(_ elementType: ElementType) -> Bool {
        if case .float(16, _) = elementType { return true }
        return false
    }

    /// Whether `codec`'s bytes can be `E` values, or float16 converted to them.
    func accepts(_ codec: ParallelDeflate) -> Bool {
        codec.elementSize == (halfStored ? 2 : MemoryLayout<E>.size)
    }

    func read(rows: Range<Int>, of dataset: borrowing Dataset, into values: UnsafeMutableBufferPointer<E>,
              codec: ParallelDeflate? = nil) throws(HDF5Error) {
        if let codec {
            precondition(accepts(codec))
            guard halfStored else { return try codec.read(rows: rows, of: dataset, into: UnsafeMutableRawBufferPointer(values)) }
            let bits = staging.buffer(count: values.count)
            try codec.read(rows: rows, of: dataset, into: UnsafeMutableRawBufferPointer(bits))
            Float16Conversion.widen(UnsafeBufferPointer(bits), into: values, threadCount: threadCount)
            return
        }
        try read(Hyperslab(rows: rows, of: dataset.shape), of: dataset, into: values)
    }

    func read(_ block: Hyperslab, of dataset: borrowing Dataset, into values: UnsafeMutableBufferPointer<E>) throws(HDF5Error) {
        guard halfStored else { return try dataset.read(block, into: values) }
        let bits = staging.buffer(count: values.count)
        try dataset.readStored(block, into: UnsafeMutableRawBufferPointer(bits))
        if bigEndian { swapBytes(bits) }
        Float16Conversion.widen(UnsafeBufferPointer(bits), into: values, threadCount: threadCount)
    }

    func write(rows: Range<Int>, of dataset: borrowing Dataset, from values: UnsafeBufferPointer<E>,
               codec: ParallelDeflate? = nil) throws(HDF5Error) {
        if let codec {
            precondition(accepts(codec))
            guard halfStored else { return try codec.write(rows: rows, of: dataset, from: UnsafeRawBufferPointer(values)) }
            let bits = staging.buffer(count: values.count)
            Float16Conversion.narrow(values, into: bits, threadCount: threadCount)
            try codec.write(rows: rows, of: dataset, from: UnsafeRawBufferPointer(bits))
            return
        }
        if try writeConverted(rows: rows, of: dataset, from: values) { return }  // SharedWrites.swift
        try write(Hyperslab(rows: rows, of: dataset.shape), of: dataset, from: values)
    }

    func write(_ block: Hyperslab, of dataset: borrowing Dataset, from values: UnsafeBufferPointer<E>) throws(HDF5Error) {
        guard halfStored else { return try dataset.write(block, from: values) }
        let bits = staging.buffer(count: values.count)
        Float16Conversion.narrow(values, into: bits, threadCount: threadCount)
        if bigEndian { swapBytes(bits) }
        try dataset.writeStored(block, from: UnsafeRawBufferPointer(bits))
    }

    private func swapBytes(_ bits: UnsafeMutableBufferPointer<UInt16>) {
        for index in bits.indices { bits[index] = bits[index].byteSwapped }
    }
}
