import Foundation

/// Copies INPUT's bytes into a new file in the kernel (`copy_file_range`, which
/// clones extents where the filesystem can), so that OUTPUT starts as INPUT byte
/// for byte: user block, addresses and references, creation order, committed types.
enum ByteCopy {
    /// Copies `source` into a new file at `destination` (created, never replaced), with
    /// permission bits `mode`, leaving the byte ranges in `holes` unwritten (they read as
    /// zeros): the contiguous storage of datasets that are about to be rewritten.
    /// Returns the errno of the failure, 0 on success.
    static func copy(from source: String, to destination: String, mode: mode_t, leavingHoles holes: [Range<Int>])
        -> Int32
    {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { return errno }
        defer { close(input) }
        let output = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard output >= 0 else { return errno }
        defer { close(output) }
        var status = stat()
        guard fstat(input, &status) == 0 else { return errno }
        let size = Int(status.st_size)
        guard ftruncate(output, off_t(size)) == 0 else { return errno }
        for range in kept(0..<size, minus: holes) {
            let failure = copyRange(range, from: input, to: output)
            if failure != 0 { return failure }
        }
        return 0
    }

    /// Writes `bytes` to a new file at `destination`.
    static func write(_ bytes: [UInt8], to destination: String, mode: mode_t) -> Int32 {
        let output = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard output >= 0 else { return errno }
        defer { close(output) }
        return bytes.withUnsafeBytes { writeFully($0, to: output) }
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

    private static func copyRange(_ range: Range<Int>, from input: Int32, to output: Int32) -> Int32 {
        var inputOffset = Int64(range.lowerBound)
        var outputOffset = Int64(range.lowerBound)
        var left = range.count
        while left > 0 {
            let copied: Int
            if let copyFileRange {
                copied = copyFileRange(input, &inputOffset, output, &outputOffset, left, 0)
            } else {
                copied = -1
                errno = ENOSYS
            }
            if copied < 0 {
                let failure = errno
                if failure == EINTR { continue }
                // Filesystems (or kernels) without copy_file_range: copy through memory.
                if [ENOSYS, EXDEV, EINVAL, EOPNOTSUPP].contains(failure) {
                    return copyThroughMemory(from: input, at: inputOffset, to: output, count: left)
                }
                return failure
            }
            if copied == 0 { return EIO }  // INPUT shrank under us
            left -= copied
        }
        return 0
    }

    private static func copyThroughMemory(from input: Int32, at offset: Int64, to output: Int32, count: Int) -> Int32 {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        var position = offset
        var left = count
        while left > 0 {
            let read = pread(input, buffer.baseAddress, min(left, buffer.count), off_t(position))
            if read < 0 && errno == EINTR { continue }
            guard read > 0 else { return read < 0 ? errno : EIO }
            var written = 0
            while written < read {
                let result = pwrite(
                    output, buffer.baseAddress! + written, read - written, off_t(position) + off_t(written))
                if result < 0 && errno == EINTR { continue }
                guard result > 0 else { return result < 0 ? errno : EIO }
                written += result
            }
            position += Int64(read)
            left -= read
        }
        return 0
    }

    /// glibc's `copy_file_range`, which Swift's Glibc module does not import (it needs _GNU_SOURCE).
    private typealias CopyFileRange =
        @convention(c) (
            Int32, UnsafeMutablePointer<Int64>?, Int32, UnsafeMutablePointer<Int64>?, Int, UInt32
        ) -> Int
    private static let copyFileRange: CopyFileRange? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "copy_file_range") else { return nil }
        return unsafeBitCast(symbol, to: CopyFileRange.self)
    }()
}
