import Foundation
import Testing

@testable import HDF5

/// Issue 22: `HDF5Error` keeps the numbers and function names of HDF5's error stack, and its
/// one-line reason is chosen by them, on HDF5 1.10 and 1.14 alike.
@Suite struct HDF5ErrorTests {
    private func scratch() throws -> String {
        let path = NSTemporaryDirectory() + "gnorm-hdf5-error-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    private static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures").path

    @Test func aFileThatIsNotHDF5FailsInTheFileAccessibilityClassWithNotHDF5() throws {
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/text.h5"
        try "not hdf5\n".write(toFile: path, atomically: true, encoding: .utf8)
        let error = try #require(throws: HDF5Error.self) { _ = try File(openingForReading: path) }
        #expect(error.operation == "H5Fopen '\(path)'")
        try #require(!error.frames.isEmpty)
        #expect(error.frames.first?.function == "H5Fopen")
        #expect(error.frames.first?.major == .fileAccessibility)
        let innermost = try #require(error.frames.last)
        #expect(innermost.function == "H5F__super_read")
        #expect(innermost.major == .fileAccessibility)
        #expect(innermost.minor == .notHDF5)
        #expect(innermost.minorDescription == "Not an HDF5 file")
        #expect(error.frames.allSatisfy { $0.function.hasPrefix("H5") && $0.major != nil && $0.minor != nil })
        #expect(error.frames.filter { $0.minor == .notHDF5 }.count == 1)
        #expect(error.systemError == nil)
        #expect(!error.needsNewerLibrary)
        #expect(error.reason == "file signature not found — Not an HDF5 file")
        #expect(error.description == "H5Fopen '\(path)' failed: file signature not found — Not an HDF5 file")
        #expect(error.stack.last == "H5F__super_read: file signature not found — Not an HDF5 file")
    }

    @Test func aMissingFileGivesTheSystemCallErrorOfHDF5sDriver() throws {
        let error = try #require(throws: HDF5Error.self) { _ = try File(openingForReading: "/nonexistent/file.h5") }
        #expect(error.frames.first?.major == .fileAccessibility)
        #expect(!error.frames.contains { $0.minor == .notHDF5 })
        let system = try #require(error.systemError)
        #expect(system.code == ENOENT)
        #expect(system.call == "H5FD__sec2_open")
        #expect(error.reason == "No such file or directory")
    }

    /// Fixtures/newer_format.h5 (h5py 3.16, libver="latest"): layout message version 5.
    @Test func aNewerFormatIsToldApartFromOtherFailures() throws {
        let file = try File(openingForReading: Self.fixtures + "/newer_format.h5")
        let error = try #require(throws: HDF5Error.self) { _ = try file.openDataset("/x") }
        #expect(error.needsNewerLibrary)
        #expect(error.frames.last?.function == "H5O__layout_decode")
        #expect(error.reason?.hasPrefix("the file uses a newer HDF5 format than HDF5 ") == true)
        #expect(error.systemError == nil)
    }

    /// 1.14's plugin search pushes "can't find plugin" below the frame that names the filter:
    /// the reason is the frame above it.
    @Test func theReasonPassesOverThePluginSearchFrame() {
        let filter = HDF5Error.Frame(
            function: "H5Z_pipeline", major: nil, minor: nil,
            description: "required filter 'lzf' is not registered", minorDescription: "Read failed")
        let search = HDF5Error.Frame(
            function: "H5PL_load", major: .plugin, minor: nil, description: "can't find plugin. Check either ...",
            minorDescription: "Object not found")
        let error = HDF5Error(operation: "H5Dread '/lzf'", frames: [filter, search])
        #expect(error.reason == "required filter 'lzf' is not registered — Read failed")
        #expect(error.stack.count == 2)
    }

    @Test func gnormsOwnFramesCarryNoHDF5Numbers() {
        let error = HDF5Error(operation: "H5Dread_chunk '/x' at 0", stack: ["filters were skipped for this chunk"])
        #expect(error.frames.count == 1)
        #expect(error.frames.first?.major == nil && error.frames.first?.minor == nil)
        #expect(error.reason == "filters were skipped for this chunk")
        #expect(error.description == "H5Dread_chunk '/x' at 0 failed: filters were skipped for this chunk")
    }
}
