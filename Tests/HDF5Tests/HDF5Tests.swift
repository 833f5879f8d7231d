import Foundation
import Testing
@testable import HDF5

@Suite struct HDF5Tests {
    private func scratch() throws -> String {
        let path = NSTemporaryDirectory() + "gnorm-hdf5-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func hyperslabsRoundTripWithTypeConversion() throws {
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/a.h5"
        do {
            let file = try File(creating: path)
            let dataset = try file.createDataset("/g/x", shape: [3, 2, 2], elementType: .float16,
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

    @Test func treeCopyKeepsLinksAttributesAndSkipsDatasets() throws {
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        do {
            let file = try File(creating: folder + "/in.h5")
            let kept = try file.createDataset("/a/kept", shape: [2], elementType: .float64)
            try kept.writeAll([1.5, 2.5])
            try kept.setAttribute("unit", .string("m"))
            _ = try file.createDataset("/a/skipped", shape: [2], elementType: .float32)
            try file.setAttribute("note", .string("group attribute"), on: "/a")
            try file.close()
        }
        let source = try File(openingForReading: folder + "/in.h5")
        let copy = try File(creating: folder + "/out.h5")
        #expect(try copy.copyTree(from: source, skipping: ["/a/skipped"]).isEmpty)
        #expect(try copy.objects().map(\.path) == ["/", "/a", "/a/kept"])
        #expect(try copy.openDataset("/a/kept").readAll(as: Double.self) == [1.5, 2.5])
        #expect(try copy.openDataset("/a/kept").attribute("unit") == .string("m"))
        #expect(try copy.attribute("note", on: "/a") == .string("group attribute"))
    }

    @Test func memoryImagesRoundTrip() throws {
        let image: [UInt8]
        do {
            let file = try File(creatingInMemory: "mem.h5")
            let dataset = try file.createDataset("/x", shape: [2, 3], elementType: .float32)
            try dataset.writeAll([Float](arrayLiteral: 1, 2, 3, 4, 5, 6))
            image = try file.image()
        }
        let reopened = try File(image: image, name: "<image>")
        #expect(try reopened.openDataset("/x").readAll(as: Float.self) == [1, 2, 3, 4, 5, 6])
    }
}
