import GroupNormKernel
import HDF5

extension StoredSlabs {
    /// Writes `values` converted by gnorm to the stored type of `dataset` when the file is
    /// shared by the processes of an MPI job and that type is not `E` in native byte order
    /// (float64 results stored as float32, big-endian floats): parallel HDF5 turns collective
    /// I/O off for a converting write, and then refuses it on a filtered dataset. Returns
    /// false, having written nothing, when HDF5 needs no conversion or the file is not shared.
    ///
    /// Narrowing is `Float(_:)`, round to nearest even, as libhdf5's hardware conversion.
    func writeConverted(rows: Range<Int>, of dataset: borrowing Dataset, from values: UnsafeBufferPointer<E>)
        throws(HDF5Error) -> Bool
    {
        try writeConverted(Hyperslab(rows: rows, of: dataset.shape), of: dataset, from: values)
    }

    /// `writeConverted(rows:of:from:)` for any block (a piece of a sample larger than the budget).
    func writeConverted(_ block: Hyperslab, of dataset: borrowing Dataset, from values: UnsafeBufferPointer<E>)
        throws(HDF5Error) -> Bool
    {
        guard case .float(let bits, let bigEndian) = dataset.elementType, bits == 32 || bits == 64,
            bits != MemoryLayout<E>.size * 8 || bigEndian, dataset.isSharedByAllProcesses
        else { return false }
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: values.count * bits / 8, alignment: 8)
        defer { bytes.deallocate() }
        if bits == 32 {
            let out = bytes.bindMemory(to: UInt32.self)
            for index in values.indices {
                let value = Float(Double(values[index]))
                out[index] = bigEndian ? value.bitPattern.bigEndian : value.bitPattern
            }
        } else {
            let out = bytes.bindMemory(to: UInt64.self)
            for index in values.indices {
                let value = Double(values[index])
                out[index] = bigEndian ? value.bitPattern.bigEndian : value.bitPattern
            }
        }
        try dataset.writeStored(block, from: UnsafeRawBufferPointer(bytes))
        return true
    }
}
