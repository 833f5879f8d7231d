import Foundation
import Platform

/// Copies INPUT's bytes into a new file in the kernel (`copy_file_range`, which
/// clones extents where the filesystem can), so that OUTPUT starts as INPUT byte
/// for byte: user block, addresses and references, creation order, committed types.
enum ByteCopy {
    /// Copies `source` into a new file at `destination` (created, never replaced), with
    /// permission bits `mode`, leaving the byte ranges in `holes` unwritten (they read as
    /// zeros): the contiguous storage of datasets that are about to be rewritten.
    static func copy(from source: String, to destination: String, mode: mode_t, leavingHoles holes: [Range<Int>])
        throws(SystemCallError)
    {
        let input = try System.open(source, O_RDONLY | O_CLOEXEC)
        defer { close(input) }
        let output = try System.open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode: mode)
        defer { close(output) }
        var status = stat()
        guard fstat(input, &status) == 0 else { throw SystemCallError("fstat", path: source) }
        let size = Int(status.st_size)
        guard ftruncate(output, off_t(size)) == 0 else { throw SystemCallError("ftruncate", path: destination) }
        for range in kept(0..<size, minus: holes) {
            try copyRange(range, from: (input, source), to: (output, destination))
        }
    }

    /// Writes `bytes` to a new file at `destination`.
    static func write(_ bytes: [UInt8], to destination: String, mode: mode_t) throws(SystemCallError) {
        let output = try System.open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode: mode)
        defer { close(output) }
        try bytes.withUnsafeBytes { buffer in
            Result { () throws(SystemCallError) in try System.writeFully(buffer, to: output, path: destination) }
        }.get()
    }

    /// `whole` without `holes`, as sorted disjoint ranges.
    static func kept(_ whole: Range<Int>, minus holes: [Range<Int>]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start = whole.lowerBound
        for hole in holes.map({ $0.clamped(to: whole) }).filter({ !$0.isEmpty }).sorted(by: {
            $0.lowerBound < $1.lowerBound
        }) {
            if hole.lowerBound > start { ranges.append(start..<hole.lowerBound) }
            start = max(start, hole.upperBound)
        }
        if start < whole.upperBound { ranges.append(start..<whole.upperBound) }
        return ranges
    }

    private static func copyRange(
        _ range: Range<Int>, from input: (descriptor: Int32, path: String), to output: (descriptor: Int32, path: String)
    ) throws(SystemCallError) {
        var inputOffset = Int64(range.lowerBound)
        var outputOffset = Int64(range.lowerBound)
        var left = range.count
        while left > 0 {
            let copied: Int
            do {
                copied = try System.copyFileRange(
                    from: input.descriptor, at: &inputOffset, to: output.descriptor, at: &outputOffset, count: left,
                    path: output.path)
            } catch {
                if error.code == EINTR { continue }
                // Systems, filesystems (or kernels) without copy_file_range: copy through memory.
                guard System.copyFileRangeUnsupported(error) else { throw error }
                return try copyThroughMemory(from: input, at: inputOffset, to: output, count: left)
            }
            // INPUT shrank under us.
            if copied == 0 { throw SystemCallError("copy_file_range", path: input.path, code: EIO) }
            left -= copied
        }
    }

    private static func copyThroughMemory(
        from input: (descriptor: Int32, path: String), at offset: Int64, to output: (descriptor: Int32, path: String),
        count: Int
    ) throws(SystemCallError) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        var position = offset
        var left = count
        while left > 0 {
            let read = pread(input.descriptor, buffer.baseAddress, min(left, buffer.count), off_t(position))
            if read < 0 && errno == EINTR { continue }
            guard read > 0 else { throw SystemCallError("pread", path: input.path, code: read < 0 ? errno : EIO) }
            var written = 0
            while written < read {
                let result = pwrite(
                    output.descriptor, buffer.baseAddress! + written, read - written, off_t(position) + off_t(written))
                if result < 0 && errno == EINTR { continue }
                guard result > 0 else {
                    throw SystemCallError("pwrite", path: output.path, code: result < 0 ? errno : EIO)
                }
                written += result
            }
            position += Int64(read)
            left -= read
        }
    }
}
