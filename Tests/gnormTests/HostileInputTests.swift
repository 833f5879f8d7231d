import Foundation
import HDF5
import Testing

/// Issue 21, INPUT's half: an INPUT that changes while gnorm reads it, hostile files
/// (huge declared shapes, external storage), and the memory budget against libhdf5.
@Suite(.serialized) struct HostileInputTests {
    /// A float32 dataset /x of `samples` samples of 16×64×64 values (256 KiB each), contiguous:
    /// 32 samples (8 MiB) are mapped by gnorm (`MappedDataset.smallestMapped`), 4 are read through HDF5.
    private func contiguousInput(_ path: String, samples: Int) throws {
        let file = try File(creating: path)
        let shape = [samples, 16, 64, 64]
        var state: UInt64 = 7
        let values = (0..<shape.reduce(1, *)).map { _ -> Float in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(state >> 40) / Float(1 << 24) + 1
        }
        try file.createDataset("/x", shape: shape, elementType: .float32).writeAll(values)
    }

    /// `GNORM_TEST_INPUT_HOOK` truncates INPUT once gnorm's Nth check of it has passed: 1 just
    /// before the copy that OUTPUT starts from, 2 after it, 3 after the first slab read (the
    /// slabs after it read zeros from libhdf5, or fault in the mapping). Each is status 74, one
    /// line, no OUTPUT, no temporary file; with --in-place INPUT is left as the truncation left it.
    @Test func anInputTruncatedWhileReadIsAReadFailureAndNothingIsCommitted() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let pristine = [("mapped", folder + "/mapped.h5", 32), ("read", folder + "/read.h5", 4)]
        for (_, path, samples) in pristine { try contiguousInput(path, samples: samples) }
        let input = folder + "/in.h5"
        let output = folder + "/out.h5"
        for (kind, path, _) in pristine {
            // Control: the same run without the hook commits OUTPUT.
            try? FileManager.default.removeItem(atPath: input)
            try FileManager.default.copyItem(atPath: path, toPath: input)
            let control = try Gnorm.run(["apply", "-q", "-g", "4", "--memory-limit", "4", input, output])
            #expect(control.status == 0, "\(kind): \(control.stderr)")
            #expect(FileManager.default.fileExists(atPath: output))
            try FileManager.default.removeItem(atPath: output)
            for check in 1...3 {
                for inPlace in [false, true] {
                    try? FileManager.default.removeItem(atPath: input)
                    try FileManager.default.copyItem(atPath: path, toPath: input)
                    let inode = try FileManager.default.attributesOfItem(atPath: input)[.systemFileNumber] as? Int
                    let arguments =
                        ["apply", "-q", "-g", "4", "--memory-limit", "4"]
                        + (inPlace ? ["--in-place", input] : [input, output])
                    let run = try Gnorm.run(
                        arguments, environment: ["GNORM_TEST_INPUT_HOOK": "\(check):truncate -s 0 '\(input)'"])
                    let what = "\(kind), truncated after check \(check)\(inPlace ? ", --in-place" : "")"
                    #expect(run.status == 74, "\(what): \(run.stderr)")
                    #expect(run.stderr.split(separator: "\n").count == 1, "\(what): \(run.stderr)")
                    #expect(run.stderr.hasPrefix("gnorm: error: "), "\(what): \(run.stderr)")
                    #expect(
                        run.stderr.contains("INPUT changed while gnorm read it") || run.stderr.contains("(SIGBUS)"),
                        "\(what): \(run.stderr)")
                    #expect(try Gnorm.listing(folder) == ["in.h5", "mapped.h5", "read.h5"], "\(what)")
                    let after = try FileManager.default.attributesOfItem(atPath: input)
                    #expect(after[.systemFileNumber] as? Int == inode, "\(what): INPUT was replaced")
                    #expect(after[.size] as? Int == 0, "\(what)")
                }
            }
        }
    }

    /// `stats` prints no row read after INPUT changed, and ends with status 74.
    @Test func statsOfAnInputTruncatedWhileReadFails() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let input = folder + "/in.h5"
        for samples in [32, 4] {
            try? FileManager.default.removeItem(atPath: input)
            try contiguousInput(input, samples: samples)
            let control = try Gnorm.run(["stats", "--format", "csv", "-g", "4", "--memory-limit", "4", input])
            #expect(control.status == 0, "\(control.stderr)")
            #expect(control.stdout.split(separator: "\n").count == 1 + samples * 4)
            let run = try Gnorm.run(
                ["stats", "--format", "csv", "-g", "4", "--memory-limit", "4", input],
                environment: ["GNORM_TEST_INPUT_HOOK": "1:truncate -s 0 '\(input)'"])
            #expect(run.status == 74, "\(samples) samples: \(run.stderr)")
            #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
            // Only rows of samples read before the truncation, each of them right (4 samples are one slab).
            let rows = run.stdout.split(separator: "\n")
            let expected = control.stdout.split(separator: "\n")
            #expect(samples == 4 ? rows.count == expected.count : rows.count < expected.count)
            #expect(Array(expected.prefix(rows.count)) == rows)
        }
    }

    /// INPUT renamed over (an editor's save) while gnorm reads it: with --in-place the new
    /// file must not be replaced by the old one's normalized values.
    @Test func anInputReplacedWhileReadIsNotOverwrittenInPlace() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let input = folder + "/in.h5"
        try contiguousInput(input, samples: 4)
        try contiguousInput(folder + "/new.h5", samples: 4)
        let newBytes = try Data(contentsOf: URL(fileURLWithPath: folder + "/new.h5"))
        let run = try Gnorm.run(
            ["apply", "-q", "-g", "4", "--in-place", input],
            environment: ["GNORM_TEST_INPUT_HOOK": "2:mv '\(folder)/new.h5' '\(input)'"])
        #expect(run.status == 74, "\(run.stderr)")
        #expect(run.stderr.contains("its name now names another file"), "\(run.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: input)) == newBytes)
        #expect(try Gnorm.listing(folder) == ["in.h5"])
    }
}
