import Foundation
import HDF5
import Testing

@testable import GnormPipeline

/// One fixture case: the dataset in cases.h5, the options, and the tolerance.
struct FixtureCase: CustomTestStringConvertible, Sendable {
    let dataset: String
    var groups: GroupChoice = .count(4)
    var mode: NormalizationMode = .group
    var layout: String = "nchw"
    var weight: String? = nil
    var bias: String? = nil
    var mean: String? = nil
    var variance: String? = nil
    var epsilon: Double = 1e-5
    var tolerance: Double = 3e-6
    var memoryLimit: Int = 256 << 20

    var testDescription: String { "\(dataset) \(mode.rawValue)" + (memoryLimit < 1 << 20 ? " small slabs" : "") }
}

let fixtureCases: [FixtureCase] = [
    FixtureCase(dataset: "seed", groups: .count(2)),
    FixtureCase(dataset: "affine", groups: .count(8), weight: "/gamma", bias: Fixtures.path("beta.npy")),
    FixtureCase(
        dataset: "affine", groups: .channelsPerGroup(4), weight: "/gamma_column",
        bias: Fixtures.path("cases.h5") + ":/beta"),
    FixtureCase(
        dataset: "affine", groups: .count(8), weight: Fixtures.path("gamma.npy"), bias: "/beta", memoryLimit: 4500),
    FixtureCase(dataset: "nhwc", layout: "nhwc"),
    FixtureCase(dataset: "layer", mode: .layer),
    FixtureCase(dataset: "instance", mode: .instance),
    FixtureCase(dataset: "batch", mode: .batch),
    FixtureCase(dataset: "batch", mode: .batch, memoryLimit: 700),
    FixtureCase(
        dataset: "batch_eval", mode: .batch, mean: Fixtures.path("batch_mean.npy"),
        variance: Fixtures.path("batch_var.npy")),
    FixtureCase(dataset: "batch_nhwc", mode: .batch, layout: "nhwc"),
    FixtureCase(dataset: "f64", tolerance: 1e-10),
    FixtureCase(dataset: "f16", tolerance: 2e-3),
    FixtureCase(dataset: "i16"),
    FixtureCase(dataset: "f32be"),
    FixtureCase(dataset: "offset"),
    FixtureCase(dataset: "offset_nhwc", layout: "nhwc"),
    FixtureCase(dataset: "special", groups: .count(2), bias: "/beta4"),
    FixtureCase(dataset: "empty", groups: .count(2)),
    FixtureCase(dataset: "chunked"),
    FixtureCase(dataset: "chunked", memoryLimit: 5000),
    FixtureCase(dataset: "chunked3"),  // partial last chunk, through parallel deflate
    FixtureCase(dataset: "chunked3", memoryLimit: 4 * 2 * 960 * 4),
    FixtureCase(dataset: "chunked3_f64", tolerance: 1e-10),  // deflate without shuffle, float64
    FixtureCase(dataset: "rank2", groups: .count(2)),
    FixtureCase(dataset: "eps", groups: .count(3), epsilon: 0.5),
    FixtureCase(dataset: "nhwc_f64", layout: "nhwc", tolerance: 1e-10),
    FixtureCase(dataset: "nhwc_f16", layout: "nhwc", tolerance: 2e-3),
    FixtureCase(dataset: "batch_f16", mode: .batch, tolerance: 2e-3),
]

@Suite struct ApplyFixtureTests {
    @Test(arguments: fixtureCases)
    func outputMatchesReference(_ fixture: FixtureCase) throws {
        let folder = try Fixtures.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let output = folder + "/out.h5"
        var options = NormalizationOptions()
        options.datasets = [fixture.dataset]
        options.groups = fixture.groups
        options.mode = fixture.mode
        options.layout = fixture.layout == "nhwc" ? .nhwc : .nchw
        options.threadCount = 2
        options.memoryLimit = fixture.memoryLimit
        options.epsilon = fixture.epsilon
        var apply = ApplyOptions()
        apply.weight = fixture.weight
        apply.bias = fixture.bias
        apply.mean = fixture.mean
        apply.variance = fixture.variance
        try ApplyRun.run(input: Fixtures.path("cases.h5"), output: output, options: options, apply: apply)

        let expected = Fixtures.path("expected.h5")
        let name = fixture.dataset
        let y = try Fixtures.read(output, "/" + name)
        let yExpected = try Fixtures.read(expected, "/\(name)/y")
        #expect(Fixtures.maxDifference(y, yExpected) <= fixture.tolerance)
        let mean = try Fixtures.read(output, "/gnorm/\(name)/mean")
        let variance = try Fixtures.read(output, "/gnorm/\(name)/var")
        #expect(Fixtures.maxDifference(mean, try Fixtures.read(expected, "/\(name)/mean")) <= 1e-9)
        #expect(
            Fixtures.maxDifference(variance, try Fixtures.read(expected, "/\(name)/var")) <= 1e-9
                * max(1, variance.map(abs).max() ?? 1))

        let file = try File(openingForReading: output)
        let dataset = try file.openDataset("/" + name)
        let source = try File(openingForReading: Fixtures.path("cases.h5")).openDataset("/" + name)
        #expect(dataset.shape == source.shape)
        #expect(dataset.creation == source.creation)
        let statisticsShape =
            fixture.mode == .batch
            ? [source.shape[fixture.layout == "nhwc" ? source.shape.count - 1 : 1]]
            : [source.shape[0], try #require(file.openDataset("/gnorm/\(name)/mean").shape.last)]
        #expect(try file.openDataset("/gnorm/\(name)/mean").shape == statisticsShape)
        #expect(try dataset.attribute("gnorm_mode") == .string(fixture.mode.rawValue))
        #expect(try file.attribute("mode", on: "/gnorm/" + name) == .string(fixture.mode.rawValue))
        #expect(try file.attribute("layout", on: "/gnorm/" + name) == .string(fixture.layout))
        #expect(try file.attribute("eps", on: "/gnorm/" + name) == .double(fixture.epsilon))
        #expect(try dataset.attribute("gnorm_eps") == .double(fixture.epsilon))
        #expect(try file.attribute("source", on: "/gnorm/" + name) == .string(Fixtures.path("cases.h5")))
        #expect(try file.attribute("version", on: "/gnorm/" + name) == .string(GnormVersion.current))
    }

    @Test func outputKeepsEveryObjectAndAttributeOfInput() throws {
        let folder = try Fixtures.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let output = folder + "/out.h5"
        var options = NormalizationOptions()
        options.datasets = ["/seed"]
        options.groups = .count(2)
        var apply = ApplyOptions()
        apply.history = false
        try ApplyRun.run(input: Fixtures.path("cases.h5"), output: output, options: options, apply: apply)
        let source = try File(openingForReading: Fixtures.path("cases.h5"))
        let result = try File(openingForReading: output)
        let sourcePaths = Set(try source.objects().map(\.path))
        let resultPaths = Set(try result.objects().map(\.path))
        #expect(sourcePaths.isSubset(of: resultPaths))
        #expect(
            resultPaths.subtracting(sourcePaths) == ["/gnorm", "/gnorm/seed", "/gnorm/seed/mean", "/gnorm/seed/var"])
        #expect(try result.attribute("title") == .string("gnorm fixtures"))
        #expect(try result.attribute("note", on: "/meta/deep") == .string("keep me"))
        #expect(try result.openDataset("/seed").attribute("units") == .string("volts"))
        #expect(try result.attribute("history") == nil)
        // Untouched datasets are copied value for value.
        #expect(try Fixtures.read(output, "/affine") == Fixtures.read(Fixtures.path("cases.h5"), "/affine"))
        #expect(try Fixtures.read(output, "/gamma") == Fixtures.read(Fixtures.path("cases.h5"), "/gamma"))
        #expect(try result.openDataset("/meta/deep/table").elementType == .unsupported("compound"))
    }
}
