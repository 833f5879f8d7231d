import Foundation
import Platform
import Testing

/// The platform layer's calls against what the system itself says (files read back, /proc's CPU
/// flags), and its one error type keeping the call, the path and errno.
@Suite struct PlatformTests {
    private func scratch() throws -> String {
        let path = NSTemporaryDirectory() + "gnorm-platform-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func failedCallKeepsCallPathAndErrno() throws {
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let missing = folder + "/missing.h5"
        let error = #expect(throws: SystemCallError.self) { try System.open(missing, O_RDONLY) }
        #expect(error == SystemCallError("open", path: missing, code: ENOENT))
        #expect(error?.reason == "No such file or directory")
        #expect(error?.description == "open(\(missing)): No such file or directory (errno \(ENOENT))")
        let renamed = #expect(throws: SystemCallError.self) { try System.rename(missing, to: folder + "/b") }
        #expect(renamed?.call == "rename" && renamed?.code == ENOENT)
    }

    @Test func copyFileRangeCopiesAndAdvancesOffsetsOrSaysItCannot() throws {
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        try Data(bytes).write(to: URL(fileURLWithPath: folder + "/in"))
        let input = try System.open(folder + "/in", O_RDONLY)
        defer { close(input) }
        let output = try System.open(folder + "/out", O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
        var (inputOffset, outputOffset): (Int64, Int64) = (1000, 10)
        var copied = 0
        do {
            while copied < 50_000 {
                let count = try System.copyFileRange(
                    from: input, at: &inputOffset, to: output, at: &outputOffset, count: 50_000 - copied)
                #expect(count > 0)
                copied += count
            }
        } catch {
            #if os(Linux)
                Issue.record("copy_file_range failed on Linux: \(error)")
            #endif
            #expect(System.copyFileRangeUnsupported(error))
            close(output)
            return
        }
        try System.synchronize(output, path: folder + "/out")
        close(output)
        #expect((inputOffset, outputOffset) == (51_000, 50_010))
        let written = try [UInt8](Data(contentsOf: URL(fileURLWithPath: folder + "/out")))
        #expect(written.count == 50_010)
        #expect(written[..<10].allSatisfy { $0 == 0 })
        #expect(Array(written[10...]) == Array(bytes[1000..<51_000]))
    }

    @Test func writeToAClosedPipeIsEPIPE() throws {
        signal(SIGPIPE, SIG_IGN)
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        close(ends[0])
        defer { close(ends[1]) }
        let error = #expect(throws: SystemCallError.self) {
            try [UInt8](repeating: 1, count: 10).withUnsafeBytes { try System.writeFully($0, to: ends[1]) }
        }
        #expect(error?.code == EPIPE && error?.call == "write")
    }

    /// A mapping past the end of its file: populating it fails with EFAULT (Linux 5.14 on), where
    /// touching it would raise SIGBUS.
    @Test(.enabled(if: kernelHasPopulateRead)) func populatingPastTheEndIsEFAULT() throws {
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Data(repeating: 5, count: System.pageSize).write(to: URL(fileURLWithPath: folder + "/f"))
        let descriptor = try System.open(folder + "/f", O_RDONLY)
        defer { close(descriptor) }
        let length = 4 * System.pageSize
        let address = try #require(mmap(nil, length, PROT_READ, MAP_SHARED, descriptor, 0))
        #expect(address != MAP_FAILED)
        defer { munmap(address, length) }
        try System.populate(address, count: System.pageSize)
        #expect(address.load(as: UInt8.self) == 5)
        let error = #expect(throws: SystemCallError.self) { try System.populate(address, count: length) }
        #expect(error?.code == EFAULT)
        System.dropPages(address, count: System.pageSize)
    }

    @Test func syncfsOnLinuxOnly() throws {
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let descriptor = try System.open(folder, O_RDONLY | O_DIRECTORY)
        defer { close(descriptor) }
        #if os(Linux)
            try System.synchronizeFilesystem(descriptor, path: folder)
        #else
            let error = #expect(throws: SystemCallError.self) { try System.synchronizeFilesystem(descriptor) }
            #expect(error?.code == ENOSYS)
        #endif
    }

    /// `__builtin_cpu_supports` against the flags Linux lists (which it fills only with features
    /// it also enables).
    @Test func avx2AndF16CAsLinuxListsThem() throws {
        #if os(Linux)
            let flags = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
                .split(separator: "\n").first { $0.hasPrefix("flags") }
            let listed = Set(try #require(flags).split(whereSeparator: { $0 == " " || $0 == "\t" }))
                .isSuperset(of: ["avx2", "f16c"])
            #expect(System.cpuHasAVX2 == listed)
        #endif
        #if !arch(x86_64)
            #expect(!System.cpuHasAVX2)
        #endif
    }
}

/// Linux 5.14 or later (MADV_POPULATE_READ).
let kernelHasPopulateRead: Bool = {
    #if os(Linux)
        var name = utsname()
        guard uname(&name) == 0 else { return false }
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let parts = release.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        return parts.count >= 2 && (parts[0], parts[1]) >= (5, 14)
    #else
        return false
    #endif
}()
