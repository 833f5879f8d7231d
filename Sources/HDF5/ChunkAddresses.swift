#if MPI
    internal import CHDF5MPI
#else
    internal import CHDF5
#endif

extension Dataset {
    /// The byte ranges of the stored chunks, from the start of the file. libhdf5 1.10.8 reports
    /// chunk addresses from the end of the user block (unlike `H5Dget_offset`): the caller
    /// should check one against the file before relying on it. The HDF5 calls are
    /// `H5Dget_num_chunks`, `H5Dget_chunk_info_by_coord` or `H5Dget_chunk_info`, and `H5Pget_userblock`.
    public func storedChunkRanges() throws(HDF5Error) -> [Range<Int>] {
        let base = try userBlockBytes()
        let space = try Dataspace(adopting: H5Dget_space(id), "H5Dget_space '\(path)'")
        guard let chunk = self.creation.chunkShape, !space.shape.isEmpty else { return [] }
        // By coordinate, chunk after chunk of the grid: `H5Dget_chunk_info` by index walks the
        // chunk index from its start on every call in libhdf5 1.10 (quadratic in the chunks).
        let grid = zip(space.shape, chunk).map { ($0 + $1 - 1) / $1 }
        guard !grid.contains(0) else { return [] }
        // A grid far larger than the chunks stored (a huge declared shape, few chunks written):
        // by index, allocated²/2 steps of the index instead of one call per cell of the grid.
        var allocated: hsize_t = 0
        try checkedStatus(H5Dget_num_chunks(id, space.id, &allocated), "H5Dget_num_chunks '\(path)'")
        let cells = grid.reduce(1.0) { $0 * Double($1) }
        if Double(allocated) * Double(allocated) / 2 < cells {
            return try (0..<allocated).map { (index) throws(HDF5Error) -> Range<Int> in
                var mask: UInt32 = 0
                var address: haddr_t = 0
                var size: hsize_t = 0
                var offset = [hsize_t](repeating: 0, count: grid.count)
                try checkedStatus(
                    H5Dget_chunk_info(id, space.id, index, &offset, &mask, &address, &size),
                    "H5Dget_chunk_info '\(path)' \(index)")
                return base + Int(address)..<base + Int(address) + Int(size)
            }.sorted { $0.lowerBound < $1.lowerBound }
        }
        var ranges: [Range<Int>] = []
        try Self.forEachCell(of: grid) { (coordinate) throws(HDF5Error) in
            if let range = try storedRange(at: zip(coordinate, chunk).map { hsize_t($0 * $1) }, base: base) {
                ranges.append(range)
            }
        }
        return ranges
    }

    /// The byte ranges in the file of the stored chunks holding samples `rows` (along axis 0, every
    /// chunk of the other axes), in grid order, for reading them ahead (issue 19: a chunked INPUT's
    /// next slab read while this one is computed). nil where the dataset is not chunked, more than
    /// `limit` chunks hold those samples, or libhdf5 cannot tell; unwritten chunks are left out.
    /// Addresses as `storedChunkRanges` gives them (from the start of the file, the user block
    /// added): good enough for a hint, which is all they are used for.
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
        var ranges: [Range<Int>] = []
        do {
            let base = try userBlockBytes()
            for row in chunkRows {
                try Self.forEachCell(of: grid) { (coordinate) throws(HDF5Error) in
                    let offset = [hsize_t(row * chunk[0])] + zip(coordinate, chunk.dropFirst()).map { hsize_t($0 * $1) }
                    if let range = try storedRange(at: offset, base: base) { ranges.append(range) }
                }
            }
        } catch {
            return nil  // a hint that libhdf5 cannot give is no hint
        }
        return ranges
    }

    /// The file's user block in bytes: libhdf5 reports chunk addresses from its end.
    private func userBlockBytes() throws(HDF5Error) -> Int {
        let file = try checkedId(H5Iget_file_id(id), "H5Iget_file_id '\(path)'")
        defer { H5Fclose(file) }
        let creation = try checkedId(H5Fget_create_plist(file), "H5Fget_create_plist '\(path)'")
        defer { H5Pclose(creation) }
        var userBlock: hsize_t = 0
        try checkedStatus(H5Pget_userblock(creation, &userBlock), "H5Pget_userblock '\(path)'")
        return Int(userBlock)
    }

    /// The bytes of the chunk whose first element is at `offset`, from the start of the file;
    /// nil where that chunk was never written.
    private func storedRange(at offset: [hsize_t], base: Int) throws(HDF5Error) -> Range<Int>? {
        var offset = offset
        var mask: UInt32 = 0
        var address: haddr_t = 0
        var size: hsize_t = 0
        try checkedStatus(
            H5Dget_chunk_info_by_coord(id, &offset, &mask, &address, &size),
            "H5Dget_chunk_info_by_coord '\(path)' \(offset)")
        guard address != chdf5_haddr_undef() else { return nil }
        return base + Int(address)..<base + Int(address) + Int(size)
    }

    /// `body` for every cell of a chunk grid (`grid[axis]` chunks along each axis), the last axis fastest.
    private static func forEachCell(of grid: [Int], _ body: ([Int]) throws(HDF5Error) -> Void) throws(HDF5Error) {
        var coordinate = [Int](repeating: 0, count: grid.count)
        while true {
            try body(coordinate)
            var axis = grid.count - 1
            while axis >= 0 {
                coordinate[axis] += 1
                if coordinate[axis] < grid[axis] { break }
                coordinate[axis] = 0
                axis -= 1
            }
            if axis < 0 { return }
        }
    }
}
