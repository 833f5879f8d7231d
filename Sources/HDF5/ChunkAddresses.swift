#if MPI
    internal import CHDF5MPI
#else
    internal import CHDF5
#endif

extension Dataset {
    /// The byte ranges in the file of the stored chunks holding samples `rows` (along axis 0, every
    /// chunk of the other axes), in grid order, for reading them ahead (issue 19: a chunked INPUT's
    /// next slab read while this one is computed). nil where the dataset is not chunked, more than
    /// `limit` chunks hold those samples, or libhdf5 cannot tell; unwritten chunks are left out.
    /// Addresses as `storedChunkRanges` gives them (from the start of the file, the user block
    /// added): good enough for a hint, which is all they are used for. The HDF5 calls are
    /// `H5Dget_chunk_info_by_coord` and `H5Pget_userblock`.
    public func chunkByteRanges(rows: Range<Int>, limit: Int) -> [Range<Int>]? {
        guard let chunk = creation.chunkShape else { return nil }
        let shape = self.shape
        guard chunk.count == shape.count, !shape.isEmpty, !chunk.contains(where: { $0 <= 0 }) else { return nil }
        let rows = rows.clamped(to: 0..<shape[0])
        guard !rows.isEmpty else { return [] }
        let chunkRows = rows.lowerBound / chunk[0]..<(rows.upperBound - 1) / chunk[0] + 1
        let grid = zip(shape.dropFirst(), chunk.dropFirst()).map { ($0 + $1 - 1) / $1 }
        guard !grid.contains(0) else { return [] }
        let perRow = grid.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
        guard perRow <= limit, chunkRows.count <= limit / perRow else { return nil }
        let file = H5Iget_file_id(id)
        guard file >= 0 else { return nil }
        defer { H5Fclose(file) }
        let fileCreation = H5Fget_create_plist(file)
        guard fileCreation >= 0 else { return nil }
        defer { H5Pclose(fileCreation) }
        var userBlock: hsize_t = 0
        guard H5Pget_userblock(fileCreation, &userBlock) >= 0 else { return nil }
        var ranges: [Range<Int>] = []
        for row in chunkRows {
            // The other axes' chunk coordinates, the last axis fastest.
            var coordinate = [Int](repeating: 0, count: grid.count)
            while true {
                var offset = [hsize_t(row * chunk[0])] + zip(coordinate, chunk.dropFirst()).map { hsize_t($0 * $1) }
                var mask: UInt32 = 0
                var address: haddr_t = 0
                var size: hsize_t = 0
                guard H5Dget_chunk_info_by_coord(id, &offset, &mask, &address, &size) >= 0 else { return nil }
                if address != chdf5_haddr_undef() {
                    let start = Int(userBlock) + Int(address)
                    ranges.append(start..<start + Int(size))
                }
                var axis = grid.count - 1
                while axis >= 0 {
                    coordinate[axis] += 1
                    if coordinate[axis] < grid[axis] { break }
                    coordinate[axis] = 0
                    axis -= 1
                }
                if axis < 0 { break }
            }
        }
        return ranges
    }
}
