import GroupNormKernel
import HDF5

/// Moves slabs between a dataset's stored type and the compute type `E`.
///
/// float16 is converted here, exactly (round to nearest, ties to even), and
/// HDF5 is handed bytes already in the file's type: libhdf5 1.10.8's software
/// float32 → float16 conversion rounds wrongly and runs bit by bit. Every
/// other stored type goes through HDF5's hardware conversions (integers and
/// floats to float/double, byte swapping), which are exact.
final class StoredSlabs<E: KernelElement & NativeElement> {
    private let halfStored: Bool
    private let bigEndian: Bool
    private let threadCount: Int
    /// float16 bits of one slab, reused for every slab.
    private var staging: UnsafeMutableBufferPointer<UInt16>

    init(elementType: ElementType, threadCount: Int) {
        if case .float(16, let order) = elementType {
            halfStored = true
            bigEndian = order
        } else {
            halfStored = false
            bigEndian = false
        }
        self.threadCount = threadCount
        staging = UnsafeMutableBufferPointer(start: nil, count: 0)
    }

    deinit { staging.deallocate() }

    func read(rows: Range<Int>, of dataset: borrowing Dataset, into values: UnsafeMutableBufferPointer<E>) throws(HDF5Error) {
        guard halfStored else { return try dataset.read(rows: rows, into: values) }
        let bits = stagingBuffer(count: values.count)
        try dataset.readStored(rows: rows, into: UnsafeMutableRawBufferPointer(bits))
        if bigEndian { swapBytes(bits) }
        Float16Conversion.widen(UnsafeBufferPointer(bits), into: values, threadCount: threadCount)
    }

    func write(rows: Range<Int>, of dataset: borrowing Dataset, from values: UnsafeBufferPointer<E>) throws(HDF5Error) {
        guard halfStored else {
            if try writeConverted(rows: rows, of: dataset, from: values) { return }  // SharedWrites.swift
            return try dataset.write(rows: rows, from: values)
        }
        let bits = stagingBuffer(count: values.count)
        Float16Conversion.narrow(values, into: bits, threadCount: threadCount)
        if bigEndian { swapBytes(bits) }
        try dataset.writeStored(rows: rows, from: UnsafeRawBufferPointer(bits))
    }

    private func swapBytes(_ bits: UnsafeMutableBufferPointer<UInt16>) {
        for index in bits.indices { bits[index] = bits[index].byteSwapped }
    }

    private func stagingBuffer(count: Int) -> UnsafeMutableBufferPointer<UInt16> {
        if staging.count < count {
            staging.deallocate()
            staging = .allocate(capacity: count)
        }
        return UnsafeMutableBufferPointer(rebasing: staging[0..<count])
    }
}
