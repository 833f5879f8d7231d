import GroupNormKernel
import HDF5

/// Moves slabs between a dataset's stored type and the compute type `E`.
///
/// float16 is converted here, exactly (round to nearest, ties to even), and
/// HDF5 is handed bytes already in the file's type: libhdf5 1.10.8's software
/// float32 → float16 conversion rounds wrongly and runs bit by bit. Integers
/// (little-endian) are read as stored and widened here too, on every core,
/// instead of by libhdf5's per-element conversion. Other stored types go
/// through HDF5's hardware conversions (floats to float/double, byte
/// swapping), which are exact. Contiguous little-endian values of a file
/// libhdf5 reads directly are mapped instead of read (`MappedDataset`): `E`
/// values are then read by the kernel where they are (`directValues`), the
/// others widened from the mapping. Chunks of whole
/// samples filtered with [shuffle,] deflate go through a `ChunkCodec` (`ParallelDeflate`) when
/// the stored type is `E` itself or float16.
final class StoredSlabs<E: KernelElement & NativeElement> {
    private let halfStored: Bool
    private let bigEndian: Bool
    /// Little-endian integers read as stored and widened to `E` by gnorm (Float: up to 16 bits, exactly),
    /// or (`invert --dtype int16`) written from whole Doubles in range, narrowed by gnorm.
    private let integer: (bits: Int, signed: Bool)?
    /// float64 results stored as little-endian float32, narrowed by gnorm.
    private let narrowsToFloat: Bool
    private let threadCount: Int
    /// float16 bits of one slab, shared with the other direction's `StoredSlabs`.
    private let staging: Staging
    /// INPUT's values in place, when this reads a mapped dataset that needs gnorm's conversions or none.
    private let mapped: MappedDataset?
    /// The mapping, when its values are `E` as stored: the kernel reads them there, and `read` only
    /// prepares their pages.
    let directValues: MappedDataset?
    /// The mapping, when the kernel reads float16 bits there (`TransferPlan.halves`).
    let directHalves: MappedDataset?
    /// A chunked dataset's next slab read ahead after each slab (`ChunkReadAhead`).
    private let chunkReadAhead = ChunkReadAhead()

    /// A buffer reused for every slab; reads and writes both run on the I/O thread,
    /// so the input's and the output's conversions can share one.
    final class Staging {
        fileprivate var bytes = UnsafeMutableRawBufferPointer(start: nil, count: 0)

        init() {}

        deinit { bytes.deallocate() }

        fileprivate func buffer<T>(count: Int, of type: T.Type = UInt16.self) -> UnsafeMutableBufferPointer<T> {
            let needed = count * MemoryLayout<T>.stride
            if bytes.count < needed {
                bytes.deallocate()
                bytes = .allocate(byteCount: needed, alignment: 64)
            }
            return UnsafeMutableRawBufferPointer(rebasing: bytes[0..<needed]).bindMemory(to: T.self)
        }
    }

    init(
        elementType: ElementType, threadCount: Int, staging: Staging = Staging(), mapped: MappedDataset? = nil,
        halves: Bool = false
    ) {
        if case .float(16, let order) = elementType {
            halfStored = true
            bigEndian = order
        } else {
            halfStored = false
            bigEndian = false
        }
        if case .integer(let bits, let signed, false) = elementType, E.self == Double.self || bits <= 16 {
            integer = (bits, signed)
        } else {
            integer = nil
        }
        narrowsToFloat = E.self == Double.self && elementType == .float32
        self.threadCount = threadCount
        self.staging = staging
        let native = Self.readsInPlace(elementType)
        let usable = native || (halfStored && !bigEndian) || integer != nil
        self.mapped = usable && mapped?.elementType == elementType ? mapped : nil
        directValues = native ? self.mapped : nil
        directHalves = halves && halfStored && !bigEndian ? self.mapped : nil
    }

    /// Bytes per value of the staging buffer a stored type takes when read or written
    /// (`MemoryPlan` counts them): float32 stored from float64 is narrowed through one,
    /// float32 read as float64 is converted by HDF5 into the slab.
    static func stagingBytes(_ elementType: ElementType, writing: Bool) -> Int {
        switch elementType {
        case .float(16, _): return 2
        case .integer(let bits, _, false) where E.self == Double.self || (bits <= 16 && !writing): return bits / 8
        case .float32 where E.self == Double.self && writing: return 4
        default: return 0
        }
    }

    /// Whether a mapped dataset of this type is read by the kernel where it lies: `E` itself, little-endian.
    static func readsInPlace(_ elementType: ElementType) -> Bool {
        elementType == .float(bits: 8 * MemoryLayout<E>.size, bigEndian: false)
    }

    /// The stored element size a parallel-deflate codec must move for this compute type:
    /// `E` itself, or float16 (widened and narrowed here).
    static func codecElementSize(_ elementType: ElementType) -> Int {
        if case .float(16, _) = elementType { return 2 }
        return MemoryLayout<E>.size
    }

    /// Whether `codec`'s bytes can be `E` values, or float16 converted to them.
    func accepts(_ codec: any ChunkCodec) -> Bool {
        codec.elementSize == (halfStored ? 2 : MemoryLayout<E>.size)
    }

    func read(
        rows: Range<Int>, of dataset: borrowing Dataset, into values: UnsafeMutableBufferPointer<E>,
        codec: (any ChunkCodec)? = nil
    ) throws(TransferError) {
        defer { if mapped == nil { chunkReadAhead.after(rows, of: dataset) } }
        if let codec {
            precondition(accepts(codec))
            guard halfStored else {
                return try codec.read(rows: rows, of: dataset, into: UnsafeMutableRawBufferPointer(values))
            }
            let bits = staging.buffer(count: values.count)
            try codec.read(rows: rows, of: dataset, into: UnsafeMutableRawBufferPointer(bits))
            Float16Conversion.widen(UnsafeBufferPointer(bits), into: values, threadCount: threadCount)
            return
        }
        if let mapped { return try read(rows: rows, of: mapped, into: values) }
        do { try read(Hyperslab(rows: rows, of: dataset.shape), of: dataset, into: values) } catch {
            throw .hdf5(error)
        }
    }

    /// After a `read` of `rows`: the pages of the mapping they used are no longer needed.
    func finished(rows: Range<Int>) { (directValues ?? directHalves)?.release(rows: rows) }

    /// Little-endian float16 `rows` as stored into `bits` (`TransferPlan.halves`): nothing widened.
    /// A mapped INPUT only has its pages prepared; the kernel reads them in `directHalves`.
    func readHalves(
        rows: Range<Int>, of dataset: borrowing Dataset, into bits: UnsafeMutableBufferPointer<UInt16>,
        codec: (any ChunkCodec)?
    ) throws(TransferError) {
        precondition(halfStored && !bigEndian, "float16 bits read from \(dataset.elementType)")
        defer { if mapped == nil { chunkReadAhead.after(rows, of: dataset) } }
        if let codec {
            precondition(accepts(codec))
            return try codec.read(rows: rows, of: dataset, into: UnsafeMutableRawBufferPointer(bits))
        }
        if let directHalves { return try directHalves.prepare(rows: rows) }
        do {
            try dataset.readStored(Hyperslab(rows: rows, of: dataset.shape), into: UnsafeMutableRawBufferPointer(bits))
        } catch { throw .hdf5(error) }
    }

    /// Little-endian float16 bits of `rows` written as they are (`TransferPlan.halves`): nothing narrowed.
    func writeHalves(
        rows: Range<Int>, of dataset: borrowing Dataset, from bits: UnsafeBufferPointer<UInt16>,
        codec: (any ChunkCodec)?
    ) throws(TransferError) {
        precondition(halfStored && !bigEndian, "float16 bits written to \(dataset.elementType)")
        if let codec {
            precondition(accepts(codec))
            return try codec.write(rows: rows, of: dataset, from: UnsafeRawBufferPointer(bits))
        }
        do { try dataset.writeStored(rows: rows, from: UnsafeRawBufferPointer(bits)) } catch { throw .hdf5(error) }
    }

    private func read(rows: Range<Int>, of mapped: MappedDataset, into values: UnsafeMutableBufferPointer<E>)
        throws(TransferError)
    {
        try mapped.prepare(rows: rows)
        guard directValues == nil else { return }
        defer { mapped.release(rows: rows) }
        if halfStored {
            return Float16Conversion.widen(
                mapped.values(rows: rows, as: UInt16.self), into: values, threadCount: threadCount)
        }
        guard let integer else { preconditionFailure("mapped \(mapped.elementType) read as \(E.self)") }
        widenIntegers(mapped.bytes(rows: rows), into: values, bits: integer.bits, signed: integer.signed)
    }

    func read(_ block: Hyperslab, of dataset: borrowing Dataset, into values: UnsafeMutableBufferPointer<E>)
        throws(HDF5Error)
    {
        if let integer {
            return try readIntegers(block, of: dataset, into: values, bits: integer.bits, signed: integer.signed)
        }
        guard halfStored else { return try dataset.read(block, into: values) }
        let bits = staging.buffer(count: values.count)
        try dataset.readStored(block, into: UnsafeMutableRawBufferPointer(bits))
        if bigEndian { swapBytes(bits) }
        Float16Conversion.widen(UnsafeBufferPointer(bits), into: values, threadCount: threadCount)
    }

    func write(
        rows: Range<Int>, of dataset: borrowing Dataset, from values: UnsafeBufferPointer<E>,
        codec: (any ChunkCodec)? = nil
    ) throws(TransferError) {
        if let codec {
            precondition(accepts(codec))
            guard halfStored else {
                return try codec.write(rows: rows, of: dataset, from: UnsafeRawBufferPointer(values))
            }
            let bits = staging.buffer(count: values.count)
            Float16Conversion.narrow(values, into: bits, threadCount: threadCount)
            try codec.write(rows: rows, of: dataset, from: UnsafeRawBufferPointer(bits))
            return
        }
        do throws(HDF5Error) {
            if try writeConverted(rows: rows, of: dataset, from: values) { return }  // SharedWrites.swift
            try write(Hyperslab(rows: rows, of: dataset.shape), of: dataset, from: values)
        } catch {
            throw .hdf5(error)
        }
    }

    func write(_ block: Hyperslab, of dataset: borrowing Dataset, from values: UnsafeBufferPointer<E>) throws(HDF5Error)
    {
        if let integer, E.self == Double.self {
            // Stored bytes, not a converting write: parallel HDF5 refuses those on filtered datasets.
            let stored = staging.buffer(count: values.count * integer.bits / 8, of: UInt8.self)
            narrowIntegers(
                values, into: UnsafeMutableRawBufferPointer(stored), bits: integer.bits, signed: integer.signed)
            return try dataset.writeStored(block, from: UnsafeRawBufferPointer(stored))
        }
        if try writeConverted(block, of: dataset, from: values) { return }  // SharedWrites.swift
        if narrowsToFloat {
            let floats = staging.buffer(count: values.count, of: Float.self)
            let doubles = UnsafeRawBufferPointer(values).assumingMemoryBound(to: Double.self)
            FloatNarrowing.narrow(doubles, into: floats, threadCount: threadCount)
            return try dataset.writeStored(block, from: UnsafeRawBufferPointer(floats))
        }
        guard halfStored else { return try dataset.write(block, from: values) }
        let bits = staging.buffer(count: values.count)
        Float16Conversion.narrow(values, into: bits, threadCount: threadCount)
        if bigEndian { swapBytes(bits) }
        try dataset.writeStored(block, from: UnsafeRawBufferPointer(bits))
    }

    private func readIntegers(
        _ block: Hyperslab, of dataset: borrowing Dataset, into values: UnsafeMutableBufferPointer<E>, bits: Int,
        signed: Bool
    ) throws(HDF5Error) {
        let stored = UnsafeMutableRawBufferPointer(staging.buffer(count: values.count * bits / 8, of: UInt8.self))
        try dataset.readStored(block, into: stored)
        widenIntegers(UnsafeRawBufferPointer(stored), into: values, bits: bits, signed: signed)
    }

    /// `stored` holds little-endian integers of `bits` bits, one per value of `values` (Doubles,
    /// or Floats for integers of up to 16 bits).
    private func widenIntegers(
        _ stored: UnsafeRawBufferPointer, into values: UnsafeMutableBufferPointer<E>, bits: Int, signed: Bool
    ) {
        func widen<I: FixedWidthInteger>(_ type: I.Type) {
            if E.self == Float.self {
                let floats = UnsafeMutableRawBufferPointer(values).bindMemory(to: Float.self)
                return IntegerConversion.widen(stored.bindMemory(to: I.self), into: floats, threadCount: threadCount)
            }
            let doubles = UnsafeMutableRawBufferPointer(values).bindMemory(to: Double.self)
            IntegerConversion.widen(stored.bindMemory(to: I.self), into: doubles, threadCount: threadCount)
        }
        switch (bits, signed) {
        case (8, false): widen(UInt8.self)
        case (8, true): widen(Int8.self)
        case (16, false): widen(UInt16.self)
        case (16, true): widen(Int16.self)
        case (32, false): widen(UInt32.self)
        case (32, true): widen(Int32.self)
        case (64, false): widen(UInt64.self)
        default: widen(Int64.self)
        }
    }

    /// `values` (whole numbers in the range of the type: `IntegerRounding` saw to it) as little-endian
    /// integers of `bits` bits into `stored`.
    private func narrowIntegers(
        _ values: UnsafeBufferPointer<E>, into stored: UnsafeMutableRawBufferPointer, bits: Int, signed: Bool
    ) {
        func narrow<I: FixedWidthInteger>(_ type: I.Type) {
            let out = stored.bindMemory(to: I.self)
            for index in values.indices { out[index] = I(Double(values[index])).littleEndian }
        }
        switch (bits, signed) {
        case (8, false): narrow(UInt8.self)
        case (8, true): narrow(Int8.self)
        case (16, false): narrow(UInt16.self)
        case (16, true): narrow(Int16.self)
        case (32, false): narrow(UInt32.self)
        case (32, true): narrow(Int32.self)
        case (64, false): narrow(UInt64.self)
        default: narrow(Int64.self)
        }
    }

    private func swapBytes(_ bits: UnsafeMutableBufferPointer<UInt16>) {
        for index in bits.indices { bits[index] = bits[index].byteSwapped }
    }
}
