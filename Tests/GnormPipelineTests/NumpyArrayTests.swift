import Foundation
import Testing

@testable import GnormPipeline

@Suite struct NumpyArrayTests {
    private func load(_ name: String) throws -> [UInt8] {
        [UInt8](try #require(FileManager.default.contents(atPath: Fixtures.path(name))))
    }

    @Test func readsNumpyFilesAsTheHDF5CopiesOfTheSameArrays() throws {
        // gamma.npy is <f4 and beta.npy is >f8, both written by np.save; cases.h5 holds the same values.
        let gamma = try NumpyArray(bytes: load("gamma.npy"))
        #expect(gamma.shape == [32])
        #expect(gamma.values == (try Fixtures.read(Fixtures.path("cases.h5"), "/gamma")))
        let beta = try NumpyArray(bytes: load("beta.npy"))
        #expect(beta.values == (try Fixtures.read(Fixtures.path("cases.h5"), "/beta")))
    }

    @Test func decodesEveryElementType() throws {
        func npy(_ descr: String, shape: String, _ payload: [UInt8]) -> [UInt8] {
            var header = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }".utf8)
            while (10 + header.count + 1) % 64 != 0 { header.append(0x20) }
            header.append(0x0A)
            return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)] + header
                + payload
        }
        #expect(try NumpyArray(bytes: npy("<f2", shape: "(2,)", [0x00, 0x3C, 0x00, 0xC0])).values == [1, -2])
        #expect(try NumpyArray(bytes: npy("<i2", shape: "(2,)", [0xFF, 0xFF, 0x02, 0x00])).values == [-1, 2])
        #expect(try NumpyArray(bytes: npy(">i4", shape: "(1, 1)", [0xFF, 0xFF, 0xFF, 0xFE])).values == [-2])
        #expect(try NumpyArray(bytes: npy("|u1", shape: "(3,)", [0, 7, 255])).values == [0, 7, 255])
        #expect(try NumpyArray(bytes: npy("<u8", shape: "(1,)", [1, 0, 0, 0, 0, 0, 0, 0])).shape == [1])
        #expect(try NumpyArray(bytes: npy("|b1", shape: "(2,)", [0, 1])).values == [0, 1])
        #expect(try NumpyArray(bytes: npy("<f4", shape: "()", [0, 0, 0x80, 0x3F])).values == [1])
    }

    @Test func rejectsBadFilesWithAReason() throws {
        #expect(throws: NumpyArray.ParseError.notNumpy) { try NumpyArray(bytes: Array("hello world".utf8)) }
        #expect(throws: NumpyArray.ParseError.self) { try NumpyArray(bytes: try load("bad-header.npy")) }
        #expect(throws: NumpyArray.ParseError.self) {
            try NumpyArray(bytes: [0x93] + Array("NUMPY".utf8) + [9, 0, 0, 0])
        }
        let complex = Array("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }\n".utf8)
        let bytes =
            [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(complex.count), 0] + complex + [UInt8](repeating: 0, count: 8)
        #expect(throws: NumpyArray.ParseError.unsupported("dtype '<c8'")) { try NumpyArray(bytes: bytes) }
        let huge = Array("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }\n".utf8)
        #expect(throws: NumpyArray.ParseError.self) {
            try NumpyArray(bytes: [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(huge.count), 0] + huge)
        }
    }
}

@Suite struct ParameterSourceTests {
    @Test func parsesTheThreeForms() {
        #expect(ParameterSource(spec: "/gamma") == .inputDataset("/gamma"))
        #expect(
            ParameterSource(spec: "train.h5:/gnorm/x/mean") == .fileDataset(file: "train.h5", path: "/gnorm/x/mean"))
        #expect(
            ParameterSource(spec: Fixtures.path("params.h5") + ":/w")
                == .fileDataset(file: Fixtures.path("params.h5"), path: "/w"))
        #expect(ParameterSource(spec: "gamma.npy") == .numpy("gamma.npy"))
        #expect(ParameterSource(spec: "/abs/gamma.npy") == .numpy("/abs/gamma.npy"))
        #expect(ParameterSource(spec: "gamma") == nil)
    }
}

@Suite struct SlabPlanTests {
    @Test func slabsCoverTheSamplesWithinTheBudget() {
        let plan = SlabPlan(sampleCount: 10, bytesPerSample: 100, memoryLimit: 350)
        #expect(plan.samplesPerSlab == 3)
        #expect(plan.slabs == [0..<3, 3..<6, 6..<9, 9..<10])
        #expect(SlabPlan(sampleCount: 4, bytesPerSample: 1000, memoryLimit: 10).samplesPerSlab == 1)
        #expect(SlabPlan(sampleCount: 0, bytesPerSample: 1000, memoryLimit: 10).slabs.isEmpty)
    }
}
