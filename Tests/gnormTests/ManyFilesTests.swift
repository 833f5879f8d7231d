import Foundation
import HDF5
import Testing

/// `stats` over several files: rows of each file in order; in batch mode the statistics
/// of every sample of every file, stored with `--save` for `apply --mean/--var`.
@Suite struct ManyFilesTests {
    /// 9 samples of shape (6, 10, 10) around 100, split into shards of 4, 1 and 4 samples.
    static func makeShards(in folder: String) throws -> (whole: String, shards: [String]) {
        var state: UInt64 = 42
        let values = (0..<(9 * 600)).map { _ -> Double in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return 100 + Double(state >> 11) / Double(1 << 53) * 6 - 3
        }
        func write(_ path: String, samples: Range<Int>) throws {
            let file = try File(creating: path)
            let dataset = try file.createDataset("/x", shape: [samples.count, 6, 10, 10], elementType: .float64)
            try dataset.writeAll(Array(values[samples.lowerBound * 600..<samples.upperBound * 600]))
            try file.close()
        }
        try write(folder + "/all.h5", samples: 0..<9)
        let shards = [0..<4, 4..<5, 5..<9].enumerated().map { folder + "/shard\($0.offset).h5" }
        for (path, samples) in zip(shards, [0..<4, 4..<5, 5..<9]) { try write(path, samples: samples) }
        return (folder + "/all.h5", shards)
    }

    static func column(_ csv: String, _ index: Int) -> [Double] {
        csv.split(separator: "\n").dropFirst().compactMap { Double($0.split(separator: ",")[index]) }
    }

    @Test func batchStatisticsOverShardsAreThoseOfTheConcatenatedData() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (whole, shards) = try Self.makeShards(in: folder)
        let reference = try Gnorm.run(["stats", "--mode", "batch", "--format", "csv", whole])
        let merged = try Gnorm.run(
            ["stats", "--mode", "batch", "--format", "csv", "--save", folder + "/stats.h5"] + shards)
        #expect(reference.status == 0 && merged.status == 0, "\(merged.stderr)")
        #expect(merged.stdout.hasPrefix("dataset,channel,mean,var\n"))
        for index in [2, 3] {
            let expected = Self.column(reference.stdout, index)
            let got = Self.column(merged.stdout, index)
            #expect(expected.count == 6 && got.count == 6)
            for (a, b) in zip(expected, got) { #expect(abs(a - b) <= 1e-12 * abs(a), "\(a) vs \(b)") }
        }
        // The saved statistics are what the report printed, and apply uses them in eval mode.
        #expect(try Gnorm.read(folder + "/stats.h5", "/gnorm/x/mean") == Self.column(merged.stdout, 2))
        let applied = try Gnorm.run([
            "apply", "-q", "--mode", "batch", "--mean", folder + "/stats.h5:/gnorm/x/mean",
            "--var", folder + "/stats.h5:/gnorm/x/var", shards[1], folder + "/out.h5",
        ])
        #expect(applied.status == 0, "\(applied.stderr)")
        #expect(try Gnorm.read(folder + "/out.h5", "/gnorm/x/var") == Self.column(merged.stdout, 3))
    }

    @Test func groupStatisticsOfSeveralFilesKeepEachFilesRowsInOrder() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (_, shards) = try Self.makeShards(in: folder)
        let run = try Gnorm.run(["stats", "-g", "2", "--format", "csv", shards[1], shards[0]])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n")
        #expect(lines.first == "file,dataset,sample,group,mean,var")
        let files: [String] = lines.dropFirst().map { String($0.split(separator: ",")[0]) }
        let expectedFiles: [String] = Array(repeating: shards[1], count: 2) + Array(repeating: shards[0], count: 8)
        #expect(files == expectedFiles)
        let single = try Gnorm.run(["stats", "-g", "2", "--format", "csv", shards[0]])
        let withoutFile: [String] = lines.suffix(8).map { $0.split(separator: ",").dropFirst().joined(separator: ",") }
        let singleRows: [String] = single.stdout.split(separator: "\n").dropFirst().map(String.init)
        #expect(withoutFile == singleRows)
    }

    @Test func shardsMustAgreeAndSaveIsForBatchMode() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (_, shards) = try Self.makeShards(in: folder)
        try expectGnorm(["stats", "--save", folder + "/s.h5", shards[0]], exits: 64, mentions: ["--mode batch"])
        let twice = try Gnorm.run(["stats", "-", "-"])
        #expect(twice.status == 64, "\(twice.stderr)")
        try expectGnorm(
            ["stats", "--mode", "batch", shards[0], Gnorm.fixture("demo.h5")], exits: 65,
            mentions: ["64 channels, but 6 in"])
        try expectGnorm(
            ["stats", "--mode", "batch", shards[0], Gnorm.fixture("cases.h5")], exits: 65, mentions: ["same datasets"])
        #expect(try Gnorm.listing(folder) == ["all.h5", "shard0.h5", "shard1.h5", "shard2.h5"])
    }
}

extension ManyFilesTests {
    /// `apply INPUT... --output-dir DIR`: one process, each OUTPUT as a single run writes it;
    /// the first failure stops the run (its status), `--keep-going` goes on.
    @Test func applyToAnOutputFolderStopsAtTheFirstFailureUnlessKeepGoing() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (_, shards) = try Self.makeShards(in: folder)
        try Data("not HDF5".utf8).write(to: URL(fileURLWithPath: folder + "/bad.h5"))
        try FileManager.default.createDirectory(atPath: folder + "/out", withIntermediateDirectories: false)
        let inputs = [shards[0], folder + "/bad.h5", shards[1]]
        let stopped = try Gnorm.run(["apply", "-g", "2", "--output-dir", folder + "/out"] + inputs)
        #expect(stopped.status == 66, "\(stopped.stderr)")
        #expect(stopped.stderr.contains("3 files: 1 written, 1 failed, 1 not started"), "\(stopped.stderr)")
        #expect(try Gnorm.listing(folder + "/out") == ["shard0.h5"])
        let quiet = try Gnorm.run(
            ["apply", "-q", "-f", "-g", "2", "--keep-going", "--output-dir", folder + "/out"] + inputs)
        #expect(quiet.status == 66)
        #expect(quiet.stderr == "gnorm: error: not an HDF5 file (\(folder)/bad.h5)\n", "errors are never silenced")
        #expect(try Gnorm.listing(folder + "/out") == ["shard0.h5", "shard1.h5"])
        // Each OUTPUT is the one a single run writes.
        let single = try Gnorm.run(["apply", "-q", "-g", "2", shards[1], folder + "/single.h5"])
        #expect(single.status == 0)
        #expect(try Gnorm.read(folder + "/out/shard1.h5", "/x") == Gnorm.read(folder + "/single.h5", "/x"))
        #expect(
            try Gnorm.read(folder + "/out/shard1.h5", "/gnorm/x/mean")
                == Gnorm.read(folder + "/single.h5", "/gnorm/x/mean"))
    }

    /// More files than three durable batches (two committed in the background while the next fills):
    /// every OUTPUT appears, is what a single run writes, and no temporary file is left.
    @Test func manyBatchesOfFilesAllAppearComplete() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder + "/in", withIntermediateDirectories: false)
        try FileManager.default.createDirectory(atPath: folder + "/out", withIntermediateDirectories: false)
        let inputs = try (0..<150).map { index -> String in
            let path = folder + "/in/f\(index).h5"
            let file = try File(creating: path)
            let dataset = try file.createDataset("/x", shape: [2, 4, 3, 3], elementType: .float32)
            try dataset.writeAll((0..<72).map { Float(($0 * 7 + index) % 13) })
            try file.close()
            return path
        }
        let run = try Gnorm.run(["apply", "-q", "-g", "2", "--output-dir", folder + "/out"] + inputs)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try Gnorm.listing(folder + "/out").count == 150)
        #expect(try Gnorm.listing(folder + "/out").allSatisfy { $0.hasPrefix("f") && $0.hasSuffix(".h5") })
        for index in [0, 64, 149] {
            let single = folder + "/single\(index).h5"
            #expect(try Gnorm.run(["apply", "-q", "-g", "2", inputs[index], single]).status == 0)
            #expect(try Gnorm.read(folder + "/out/f\(index).h5", "/x") == Gnorm.read(single, "/x"))
        }
    }

    @Test func severalInputsNeedAFolderAndDistinctNames() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (_, shards) = try Self.makeShards(in: folder)
        try expectGnorm(["apply", shards[0], shards[1], folder + "/x.h5"], exits: 64, mentions: ["--output-dir"])
        try FileManager.default.createDirectory(atPath: folder + "/sub", withIntermediateDirectories: false)
        try FileManager.default.copyItem(atPath: shards[0], toPath: folder + "/sub/shard0.h5")
        try expectGnorm(
            ["apply", "--output-dir", folder, shards[0], folder + "/sub/shard0.h5"], exits: 64,
            mentions: ["would both write"])
    }
}
