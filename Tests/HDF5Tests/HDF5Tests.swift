import Foundation
import Testing

@testable import HDF5

@Suite struct HDF5Tests {
    private func scratch() throws -> String {
        let path = NSTemporaryDirectory() + "gnorm-hdf5-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Issue 17: the libhdf5 the tests run on is the one the module was compiled against (an rpath gone
    /// wrong would run a 1.14 build on Debian's 1.10), and the one the Makefile's target asks for
    /// (GNORM_TEST_HDF5_VERSION: pkg-config's version for `make test`, 1.14.6 for `make test-hdf5-1.14`).
    @Test func runsOnTheHDF5ItWasBuiltWith() {
        #expect(libraryVersion == buildVersion)
        if let expected = ProcessInfo.processInfo.environment["GNORM_TEST_HDF5_VERSION"], !expected.isEmpty {
            #expect(libraryVersion == expected)
        }
    }

    @Test func hyperslabsRoundTripWithTypeConversion() throws {
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/a.h5"
        do {
            let file = try File(creating: path)
            let dataset = try file.createDataset(
                "/g/x", shape: [3, 2, 2], elementType: .float16,
                creation: DatasetCreation(chunkShape: [1, 2, 2], filters: [.shuffle, .deflate(level: 1)]))
            let values: [Float] = [1, 2, 3, 4, 0.5, -1, 65504, 0, 7, 8, 9, 10]
            try values.withUnsafeBufferPointer { try dataset.write(rows: 0..<3, from: $0) }
            try file.close()
        }
        let file = try File(openingForReading: path)
        let dataset = try file.openDataset("/g/x")
        #expect(dataset.shape == [3, 2, 2])
        #expect(dataset.elementType == .float16)
        #expect(dataset.creation == DatasetCreation(chunkShape: [1, 2, 2], filters: [.shuffle, .deflate(level: 1)]))
        var middle = [Double](repeating: 0, count: 4)
        try middle.withUnsafeMutableBufferPointer { try dataset.read(rows: 1..<2, into: $0) }
        #expect(middle == [0.5, -1, 65504, 0])
    }

    @Test func attributesOfEveryKindRoundTrip() throws {
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = try File(creating: folder + "/a.h5")
        try file.setAttribute("s", .string("héllo"))
        try file.setAttribute("i", .integer(-42))
        try file.setAttribute("d", .double(1e-5))
        try file.setAttribute("v", .doubles([1, 2]))
        #expect(try file.attribute("s") == .string("héllo"))
        #expect(try file.attribute("i") == .integer(-42))
        #expect(try file.attribute("d") == .double(1e-5))
        #expect(try file.attribute("v") == .doubles([1, 2]))
        #expect(try file.attribute("missing") == nil)
    }

    @Test func failuresCarryTheOperationAndHDF5Stack() throws {
        let error = #expect(throws: HDF5Error.self) { _ = try File(openingForReading: "/nonexistent/file.h5") }
        #expect(error?.operation == "H5Fopen '/nonexistent/file.h5'")
        #expect(error?.stack.isEmpty == false)
        #expect(File.isHDF5(#filePath) == false)
    }

    @Test func aReplacedDatasetKeepsItsNamesAndAttributesInOrder() throws {
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/in.h5"
        do {
            let file = try File(creating: path)
            let packed = try file.createDataset("/a/x", shape: [2, 2], elementType: .float32)
            try packed.writeAll([Float](arrayLiteral: 1, 2, 3, 4))
            try packed.setAttribute("units", .string("K"))
            try packed.setAttribute("scale_factor", .double(0.5))
            try packed.setAttribute("_FillValue", .integer(-9999))
            try packed.setAttribute("long_name", .string("temperature"))
            try file.createHardLink("/second", to: "/a/x")
            try file.close()
        }
        let file = try File(openingForWriting: path)
        let replacement = try file.beginReplacing(
            "/a/x", elementType: .float64,
            creation: DatasetCreation(chunkShape: [1, 2], filters: [.deflate(level: 1)]),
            attributes: AttributeEdits(dropped: ["scale_factor"], retyped: ["_FillValue"]))
        try replacement.dataset.writeAll([0.5, 1.5, 2.5, 3.5])
        #expect(try replacement.finish(in: file).isEmpty)
        let byFirstName = try file.openDataset("/a/x")
        let bySecondName = try file.openDataset("/second")
        #expect(try byFirstName.address() == bySecondName.address())
        #expect(try byFirstName.address() != replacement.oldAddress)
        #expect(byFirstName.elementType == .float64)
        #expect(byFirstName.creation == DatasetCreation(chunkShape: [1, 2], filters: [.deflate(level: 1)]))
        #expect(try bySecondName.readAll(as: Double.self) == [0.5, 1.5, 2.5, 3.5])
        #expect(try byFirstName.attribute("scale_factor") == nil)
        #expect(try byFirstName.attribute("_FillValue") == .double(-9999))
        #expect(try byFirstName.attribute("units") == .string("K"))
        #expect(try byFirstName.attribute("long_name") == .string("temperature"))
        // The order they were created in, less the dropped one; the retyped one keeps its place.
        #expect(try Attributes.names(on: byFirstName.id) == ["units", "_FillValue", "long_name"])
    }

    @Test func fileImagesOpenFromMemory() throws {
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        do {
            let file = try File(creating: folder + "/image.h5")
            let dataset = try file.createDataset("/x", shape: [2, 3], elementType: .float32)
            try dataset.writeAll([Float](arrayLiteral: 1, 2, 3, 4, 5, 6))
            try file.close()
        }
        let image = try [UInt8](Data(contentsOf: URL(fileURLWithPath: folder + "/image.h5")))
        let reopened = try File(image: image, name: "<image>")
        #expect(try reopened.openDataset("/x").readAll(as: Float.self) == [1, 2, 3, 4, 5, 6])
    }
}

extension HDF5Tests {
    /// Issue 21 item 5: a chunk grid of 2^32 cells with three chunks written is listed by the
    /// chunks that exist (a walk of the grid takes hours), each range the chunk's 512 bytes in the file.
    @Test func storedChunkRangesOfAHugeSparseGridAreTheChunksWritten() throws {
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = try File(creating: folder + "/sparse.h5")
        let dataset = try file.createDataset(
            "/x", shape: [2, 4, 8, 1 << 33], elementType: .float32,
            creation: DatasetCreation(chunkShape: [1, 2, 8, 8]))
        let values = [Float](repeating: 1, count: 2 * 8 * 8)
        for start in [[0, 0, 0, 0], [1, 2, 0, 8], [1, 2, 0, (1 << 33) - 8]] {
            try values.withUnsafeBufferPointer { (buffer) throws(HDF5Error) in
                try dataset.write(Hyperslab(start: start, count: [1, 2, 8, 8]), from: buffer)
            }
        }
        try file.flush()
        let ranges = try dataset.storedChunkRanges()
        #expect(ranges.count == 3)
        #expect(ranges.allSatisfy { $0.count == 512 })
        #expect(Set(ranges.map(\.lowerBound)).count == 3)
    }
}
