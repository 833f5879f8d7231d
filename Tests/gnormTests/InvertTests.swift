import Foundation
import HDF5
import Testing

/// `gnorm invert`: round trips against a float64 NumPy reference (Fixtures/invert_cases.py),
/// what OUTPUT holds, and each refusal with its status.
@Suite struct InvertTests {
    let cases = Gnorm.fixture("cases.h5")

    /// Every dtype × layout × mode, with and without an affine, masked cells, integers back
    /// with --dtype: within the README's bound, and the float64 inverse of the stored values.
    @Test func roundTripIsWithinTheStatedBoundOnEveryTypeLayoutAndMode() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let checked = try Python.run("invert_cases.py", ["roundtrip", Gnorm.binary, folder])
        #expect(checked.status == 0 && checked.output.hasSuffix("\nok\n"), "\(checked.output)")
    }

    @Test func datasetWideStatisticsInvertAPredictionsFile() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let checked = try Python.run("invert_cases.py", ["predictions", Gnorm.binary, folder])
        #expect(checked.status == 0 && checked.output.hasSuffix("ok\n"), "\(checked.output)")
    }

    @Test func anInvertedNetCDFFileReadsBackWithTheOriginalValues() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let checked = try Python.run("invert_cases.py", ["netcdf", Gnorm.binary, folder])
        #expect(checked.status == 0 && checked.output == "ok\n", "\(checked.output)")
    }

    /// OUTPUT loses /gnorm (or keeps it with --keep-stats) and the gnorm_* marks, gains a history
    /// line; ls tells which datasets invert can undo before, and none after.
    @Test func outputLosesTheStatisticsAndMarksAndGainsHistory() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let normalized = folder + "/n.h5"
        #expect(try Gnorm.run(["apply", "-q", "-g", "2", "-d", "/seed", cases, normalized]).status == 0)
        let listed = try Gnorm.run(["ls", normalized])
        let seedRow = listed.stdout.split(separator: "\n").first { $0.hasPrefix("/seed ") }
        #expect(seedRow?.hasSuffix("yes    yes") == true, "\(listed.stdout)")
        let json = try Gnorm.run(["ls", "--format", "json", normalized]).stdout
        #expect(json.contains("\"path\":\"/seed\",") && json.contains("\"invertible\":true"))
        #expect(json.components(separatedBy: "\"invertible\":true").count == 2, "only /seed")

        // A name with a space: the history line quotes it, as apply's does.
        let inverted = folder + "/x y.h5"
        let run = try Gnorm.run(["invert", "-g", "2", normalized, inverted])
        #expect(run.status == 0, "\(run.stderr)")
        let file = try File(openingForReading: inverted)
        let hasStatistics = file.exists("/gnorm")
        #expect(!hasStatistics)
        let seed = try file.openDataset("/seed")
        for name in ["gnorm_mode", "gnorm_groups", "gnorm_eps"] { #expect(try seed.attribute(name) == nil) }
        guard case .string(let history)? = try file.attribute("history") else {
            Issue.record("no history")
            return
        }
        #expect(history.hasSuffix(": gnorm invert -g 2 \(normalized) '\(inverted)'"), "\(history)")
        let original = try Gnorm.read(cases, "/seed")
        let back = try Gnorm.read(inverted, "/seed")
        #expect(back.count == original.count)
        #expect(elementwise(back, original) { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
        #expect(!(try Gnorm.run(["ls", inverted]).stdout.contains("yes    yes")))

        let kept = folder + "/k.h5"
        #expect(try Gnorm.run(["invert", "-q", "--keep-stats", normalized, kept]).status == 0)
        let keptFile = try File(openingForReading: kept)
        let keptKind = keptFile.kindOfObject(at: "/gnorm/seed/mean")
        #expect(keptKind == .dataset)
        let keptMark = try keptFile.openDataset("/seed").attribute("gnorm_mode")
        #expect(keptMark == nil)
        #expect(try Gnorm.read(kept, "/seed") == back)
        // The marks gone, nothing is left to invert by default.
        try expectGnorm(
            ["invert", "-q", kept, folder + "/again.h5"], exits: 65, mentions: ["no dataset holds statistics"])
    }

    /// `- -`, --output-dir over several INPUTs and --in-place: the OUTPUT a plain run writes.
    @Test func anAnnDataOutputIsInvertedFromItsUnsStatistics() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // An AnnData file (root encoding-type "anndata"): apply keeps its statistics in /uns/gnorm.
        let input = folder + "/a.h5ad"
        try FileManager.default.copyItem(atPath: cases, toPath: input)
        do {
            let file = try File(openingForWriting: input)
            try file.setAttribute("encoding-type", .string("anndata"), on: "/")
            try file.close()
        }
        let normalized = folder + "/n.h5ad"
        #expect(try Gnorm.run(["apply", "-q", "-g", "2", "-d", "/seed", input, normalized]).status == 0)
        let seedRow = try Gnorm.run(["ls", normalized]).stdout.split(separator: "\n").first { $0.hasPrefix("/seed ") }
        #expect(seedRow?.hasSuffix("yes    yes") == true)
        let inverted = folder + "/x.h5ad"
        let run = try Gnorm.run(["invert", "-q", normalized, inverted])
        #expect(run.status == 0, "\(run.stderr)")
        let file = try File(openingForReading: inverted)
        let leftovers = (file.exists("/uns/gnorm"), file.exists("/gnorm"))
        #expect(leftovers == (false, false))
        let original = try Gnorm.read(cases, "/seed")
        let back = try Gnorm.read(inverted, "/seed")
        #expect(back.count == original.count && !back.isEmpty)
        #expect(elementwise(back, original) { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
    }

    @Test func standardStreamsManyInputsAndInPlaceGiveThePlainOutput() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for name in ["a", "b"] {
            #expect(
                try Gnorm.run(["apply", "-q", "-g", "2", "-d", "/seed", cases, "\(folder)/\(name).h5"]).status == 0)
        }
        #expect(try Gnorm.run(["invert", "-q", "\(folder)/a.h5", "\(folder)/plain.h5"]).status == 0)
        let plain = try Gnorm.read(folder + "/plain.h5", "/seed")
        #expect(!plain.isEmpty)

        let piped = try Gnorm.run(
            ["invert", "-q", "-", "-"], stdin: try Data(contentsOf: URL(fileURLWithPath: folder + "/a.h5")))
        #expect(piped.status == 0, "\(piped.stderr)")
        try piped.stdoutBytes.write(to: URL(fileURLWithPath: folder + "/piped.h5"))
        #expect(try Gnorm.read(folder + "/piped.h5", "/seed") == plain)

        try FileManager.default.createDirectory(atPath: folder + "/out", withIntermediateDirectories: false)
        let many = try Gnorm.run(["invert", "-q", "--output-dir", folder + "/out", folder + "/a.h5", folder + "/b.h5"])
        #expect(many.status == 0, "\(many.stderr)")
        for name in ["a", "b"] { #expect(try Gnorm.read("\(folder)/out/\(name).h5", "/seed") == plain) }

        let inPlace = try Gnorm.run(["invert", "-q", "--in-place", folder + "/b.h5"])
        #expect(inPlace.status == 0, "\(inPlace.stderr)")
        #expect(try Gnorm.read(folder + "/b.h5", "/seed") == plain)
        let hasStatistics = try File(openingForReading: folder + "/b.h5").exists("/gnorm")
        #expect(!hasStatistics)
    }

    /// Samples larger than --memory-limit are inverted in pieces: the bits of the whole-sample run.
    @Test func samplesInPiecesGiveTheWholeSampleBits() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let input = folder + "/in.h5"
        do {
            let file = try File(creating: input)
            let count = 3 * 4 * 256 * 320
            try file.createDataset("/x", shape: [3, 4, 256, 320], elementType: .float32)
                .writeAll((0..<count).map { Float(($0 * 7919) % 1009) / 100 - 5 })
            try file.close()
        }
        for mode in [["-g", "2"], ["--mode", "batch"]] {
            let normalized = folder + "/n.h5"
            #expect(try Gnorm.run(["apply", "-q", "-f"] + mode + [input, normalized]).status == 0)
            let whole = try Gnorm.run(["invert", "-q", "-f", normalized, folder + "/whole.h5"])
            let pieces = try Gnorm.run(["invert", "-q", "-f", "--memory-limit", "1", normalized, folder + "/pieces.h5"])
            #expect(whole.status == 0 && pieces.status == 0, "\(whole.stderr) \(pieces.stderr)")
            let a = try Gnorm.read(folder + "/whole.h5", "/x").map(\.bitPattern)
            let b = try Gnorm.read(folder + "/pieces.h5", "/x").map(\.bitPattern)
            // The first difference only: describing two arrays of a million values would take minutes.
            let difference = a.count == b.count ? a.indices.first { a[$0] != b[$0] } : -1
            #expect(a.count == 3 * 4 * 256 * 320 && difference == nil, "\(mode) differs at \(difference ?? 0)")
            let original = try Gnorm.read(input, "/x")
            #expect(elementwise(try Gnorm.read(folder + "/whole.h5", "/x"), original) { abs($0 - $1) <= 1e-5 })
        }
    }

    @Test func integersComeBackRoundedAndRangeChecked() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let input = folder + "/in.h5"
        let values = (0..<48).map { Int16($0 * 7 - 100) }
        do {
            let file = try File(creating: input)
            try file.createDataset("/ct", shape: [2, 4, 6], elementType: .integer(bits: 16, signed: true))
                .writeAll(values.map(Double.init))
            try file.close()
        }
        let normalized = folder + "/n.h5"
        #expect(try Gnorm.run(["apply", "-q", "-g", "2", input, normalized]).status == 0)
        let normalizedType = try File(openingForReading: normalized).openDataset("/ct").elementType
        #expect(normalizedType == .float32)
        let floats = folder + "/f.h5"
        #expect(try Gnorm.run(["invert", "-q", normalized, floats]).status == 0)
        let floatType = try File(openingForReading: floats).openDataset("/ct").elementType
        #expect(floatType == .float32)
        let typed = folder + "/t.h5"
        #expect(try Gnorm.run(["invert", "-q", "--dtype", "int16", normalized, typed]).status == 0)
        let typedType = try File(openingForReading: typed).openDataset("/ct").elementType
        #expect(typedType == .integer(bits: 16, signed: true))
        #expect(try Gnorm.read(typed, "/ct") == values.map(Double.init))

        let narrow = folder + "/i8.h5"
        let refused = try expectGnorm(
            ["invert", "-q", "--dtype", "int8", normalized, narrow], exits: 65, mentions: ["does not fit int8"])
        #expect(refused.stderr.contains("--clip"))
        #expect(!FileManager.default.fileExists(atPath: narrow))
        let clipped = try Gnorm.run(["invert", "-q", "--dtype", "int8", "--clip", normalized, narrow])
        #expect(clipped.status == 0, "\(clipped.stderr)")
        #expect(try Gnorm.read(narrow, "/ct") == values.map { Double(min(127, max(-128, $0))) })
    }

    /// Each refusal: its status, one line naming what is wrong, no OUTPUT.
    @Test func refusalsNameTheProblemAndWriteNothing() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let normalized = folder + "/n.h5"
        let gamma = folder + "/gamma.npy"
        try npy([1, 0, 2, 1, 1, 1, 1, 1, 1, 1]).write(to: URL(fileURLWithPath: gamma))
        #expect(try Gnorm.run(["apply", "-q", "-g", "2", "-d", "/seed", cases, normalized]).status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: normalized))
        let output = folder + "/out.h5"
        let refusals: [([String], Int32, [String])] = [
            (["-g", "5"], 64, ["--groups 5", "groups 2", "\(normalized):/gnorm/seed"]),
            (["--eps", "0.001"], 64, ["--eps 0.001", "eps 1e-05"]),
            (["--mode", "instance"], 64, ["--mode instance", "mode group"]),
            (["--layout", "nhwc"], 64, ["--layout nhwc", "layout nchw"]),
            (["--weight", gamma], 65, ["channel 1", "cannot be undone"]),
            (["--dtype", "f32", "--clip"], 64, ["--clip goes with an integer --dtype"]),
            (["--mean", gamma, "--var", gamma, "--mode", "group"], 64, ["batch mode"]),
            (["--mean", gamma], 64, ["--mean and --var go together"]),
        ]
        for (options, status, phrases) in refusals {
            let run = try Gnorm.run(["invert", "-q"] + options + [normalized, output])
            #expect(run.status == status, "\(options): \(run.stderr)")
            for phrase in phrases { #expect(run.stderr.contains(phrase), "\(options): \(run.stderr)") }
            #expect(!FileManager.default.fileExists(atPath: output), "\(options)")
        }
        // Nothing to invert: a file apply never wrote, or a dataset without statistics.
        try expectGnorm(["invert", "-q", cases, output], exits: 65, mentions: ["no dataset holds statistics"])
        try expectGnorm(
            ["invert", "-q", "-d", "/eps", cases, output], exits: 65,
            mentions: ["no statistics stored under /gnorm/eps"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: normalized)) == before, "INPUT untouched")

        // Per-sample statistics of the wrong shape for the dataset.
        let damaged = folder + "/d.h5"
        try FileManager.default.copyItem(atPath: normalized, toPath: damaged)
        do {
            let file = try File(openingForWriting: damaged)
            try file.removeLink("/gnorm/seed/mean")
            try file.createDataset("/gnorm/seed/mean", shape: [1, 2], elementType: .float64).writeAll([0.0, 0])
            try file.close()
        }
        let shape = try Gnorm.run(["invert", "-q", damaged, output])
        #expect(shape.status == 65, "\(shape.stderr)")
        #expect(shape.stderr.contains("has shape [1, 2]") && shape.stderr.contains("[2, 2]"), "\(shape.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    /// A float64 .npy file of `values` (format 1.0).
    private func npy(_ values: [Double]) -> Data {
        var header = "{'descr': '<f8', 'fortran_order': False, 'shape': (\(values.count),), }"
        header += String(repeating: " ", count: (64 - (10 + header.count + 1) % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        data.append(contentsOf: [UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)])
        data.append(contentsOf: Array(header.utf8))
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        return data
    }
}
