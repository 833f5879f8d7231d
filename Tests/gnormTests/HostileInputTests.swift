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

/// Item 8: external raw storage and VDS sources are resolved beside INPUT and read only there
/// unless --allow-external is given; a missing one is refused, never read as fill values.
@Suite struct ExternalFilesTests {
    /// Fixtures/hostile_files.py's files in FOLDER/in (FOLDER/outside beside it); gnorm runs in FOLDER/elsewhere.
    private func files() throws -> (folder: String, input: String, elsewhere: String) {
        let folder = try Gnorm.scratchFolder()
        let input = folder + "/in"
        let elsewhere = folder + "/elsewhere"
        for path in [input, elsewhere] {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        let made = try Python.run("hostile_files.py", [input])
        #expect(made.status == 0, "\(made.output)")
        return (folder, input, elsewhere)
    }

    @Test func filesOutsideInputsFolderAreRefusedUnlessAllowed() throws {
        let (folder, input, elsewhere) = try files()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let refused: [(String, String)] = [
            ("external_passwd.h5", "external raw file /etc/passwd is outside INPUT's folder"),
            ("external_dotdot.h5", "external raw file ../outside/raw.bin is outside INPUT's folder"),
            ("vds_outside.h5", "virtual dataset source ../outside/source.h5 is outside INPUT's folder"),
        ]
        for (name, words) in refused {
            for command in [["stats", "-g", "2"], ["apply", "-q", "-g", "2"]] {
                let arguments = command + [input + "/" + name] + (command[0] == "apply" ? ["out.h5"] : [])
                let run = try Gnorm.run(arguments, in: elsewhere)
                #expect(run.status == 66, "\(name): \(run.stderr)")
                #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
                #expect(run.stderr.hasPrefix("gnorm: error: \(words)"), "\(run.stderr)")
                #expect(run.stderr.contains("--allow-external") && run.stderr.contains("\(name):/x)"), "\(run.stderr)")
                #expect(run.stdout.isEmpty)
            }
        }
        #expect(try Gnorm.listing(elsewhere).isEmpty)
        // With --allow-external the files outside are read: the values of the regular /d.
        let reference = try Gnorm.run(["stats", "--format", "csv", "-g", "2", "-d", "/d", input + "/source.h5"])
        #expect(reference.status == 0, "\(reference.stderr)")
        for name in ["external_dotdot.h5", "vds_outside.h5"] {
            let run = try Gnorm.run(
                ["stats", "--allow-external", "--format", "csv", "-g", "2", input + "/" + name], in: elsewhere)
            #expect(run.status == 0, "\(name): \(run.stderr)")
            #expect(run.stdout.replacingOccurrences(of: "/x,", with: "/d,") == reference.stdout, "\(name)")
        }
    }

    /// Relative names are found beside INPUT whatever the current directory (there is no raw.bin there).
    @Test func relativeNamesResolveBesideInput() throws {
        let (folder, input, elsewhere) = try files()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let reference = try Gnorm.run(["stats", "--format", "csv", "-g", "2", "-d", "/d", input + "/source.h5"])
        #expect(reference.status == 0, "\(reference.stderr)")
        // 2 samples × 2 groups.
        #expect(reference.stdout.split(separator: "\n").count == 1 + 4)
        for name in ["external_inside.h5", "vds_inside.h5"] {
            let run = try Gnorm.run(["stats", "--format", "csv", "-g", "2", input + "/" + name], in: elsewhere)
            #expect(run.status == 0, "\(name): \(run.stderr)")
            #expect(run.stdout.replacingOccurrences(of: "/x,", with: "/d,") == reference.stdout, "\(name)")
            let apply = try Gnorm.run(["apply", "-q", "-g", "2", input + "/" + name, "out.h5"], in: elsewhere)
            #expect(apply.status == 0, "\(name): \(apply.stderr)")
            let normalized = try Gnorm.read(elsewhere + "/out.h5", "/x")
            #expect(normalized.count == 2 * 4 * 8 * 8)
            // Group-normalized values: mean 0 per (sample, group), so 0 overall.
            #expect(abs(normalized.reduce(0, +) / Double(normalized.count)) < 1e-5)
            try FileManager.default.removeItem(atPath: elsewhere + "/out.h5")
        }
    }

    @Test func missingFilesAreRefusedNotReadAsFill() throws {
        let (folder, input, elsewhere) = try files()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for (name, words) in [
            ("external_missing.h5", "external raw file nothere.bin does not exist"),
            ("vds_missing.h5", "virtual dataset source gone.h5 does not exist"),
        ] {
            for extra in [[], ["--allow-external"]] {
                let run = try Gnorm.run(["stats", "-g", "2"] + extra + [input + "/" + name], in: elsewhere)
                #expect(run.status == 66, "\(name): \(run.stderr)")
                #expect(run.stderr.hasPrefix("gnorm: error: \(words)"), "\(run.stderr)")
                #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
            }
        }
    }

    @Test func lsNamesTheFilesValuesAreIn() throws {
        let (folder, input, _) = try files()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let passwd = try Gnorm.run(["ls", input + "/external_passwd.h5"])
        #expect(passwd.stdout.contains("external: /etc/passwd"), "\(passwd.stdout)")
        let json = try Gnorm.run(["ls", "--format", "json", input + "/vds_inside.h5"])
        #expect(json.stdout.contains("\"sources\":[{\"file\":\"source.h5\",\"dataset\":\"d\"}]"), "\(json.stdout)")
    }
}

/// Item 5: valid files that declare far more values than they store are refused up front,
/// in bounded time and memory, instead of aborting or walking the chunk grid.
@Suite struct UnwrittenChunksTests {
    @Test func hugeDeclaredShapesWithFewChunksAreRefusedUpFront() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let input = folder + "/in"
        try FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: true)
        let made = try Python.run("hostile_files.py", [input])
        try #require(made.status == 0, "\(made.output)")
        for (name, last) in [("huge_sparse.h5", "2251799813685248"), ("huge_sparse44.h5", "17592186044416")] {
            for command in [["stats"], ["apply", "-q"]] {
                let arguments =
                    command + ["-g", "2", input + "/" + name] + (command[0] == "apply" ? [folder + "/out.h5"] : [])
                let run = try Gnorm.run(arguments)
                #expect(run.status == 65, "\(name): \(run.stderr)")
                #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
                #expect(
                    run.stderr.hasPrefix("gnorm: error: declares 2 × 4 × 8 × \(last) values but stores 3 chunks"),
                    "\(run.stderr)")
                #expect(run.stderr.hasSuffix("(\(input)/\(name):/x)\n"), "\(run.stderr)")
            }
            let listing = try Gnorm.run(["ls", input + "/" + name])
            #expect(listing.status == 0 && listing.stdout.contains("(2, 4, 8, \(last))"), "\(listing.stderr)")
        }
        #expect(try Gnorm.listing(folder) == ["in", "outside"])
    }
}

/// Item 7: --memory-limit holds where libhdf5's own memory grows with the chunks: a limit
/// below what libhdf5 alone needs is refused up front, naming one that does; above it peak RSS
/// stays under the limit plus gnorm's fixed footprint (`PeakMemory.bound`).
@Suite(.serialized) struct ChunkMemoryTests {

    @Test(.enabled(if: PeakMemory.available, "needs /usr/bin/time"))
    func oneValueChunksStayInsideTheLimit() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let made = try Python.run("hostile_files.py", ["--tiny-chunks", folder, "128"])
        try #require(made.status == 0, "\(made.output)")
        let input = folder + "/tiny_chunks.h5"
        // 131,072 one-value chunks: libhdf5 1.10 held ~6.5 KB for each chunk of a read (0.8 GB).
        let refused = try Gnorm.run(["stats", "-g", "2", "--memory-limit", "16", input])
        #expect(refused.status == 65, "\(refused.stderr)")
        #expect(refused.stderr.contains("use --memory-limit 34 or more"), "\(refused.stderr)")
        #expect(refused.stderr.split(separator: "\n").count == 1)
        // apply reads and writes such chunks: twice libhdf5's share.
        try expectGnorm(
            ["apply", "-q", "-g", "2", "--memory-limit", "32", input, folder + "/o.h5"], exits: 65,
            mentions: ["use --memory-limit 67 or more"])
        for (command, limit) in [(["stats", "--format", "csv"], 32), (["apply", "-q", "-f"], 67)] {
            let (run, kibibytes) = try PeakMemory.measure(
                command + ["-g", "2", "--memory-limit", "\(limit)", input]
                    + (command[0] == "apply" ? [folder + "/o.h5"] : []))
            #expect(run.status == 0, "\(run.stderr)")
            let bound = try PeakMemory.bound(limit: limit)
            #expect(kibibytes < bound, "\(command[0]): peak RSS \(kibibytes) KiB, bound \(bound) KiB")
        }
        // The statistics are those of the values (NumPy's float64 reference over each group).
        let reference = try Python.run(
            "hostile_files.py", ["--group-moments", input])
        #expect(reference.status == 0, "\(reference.output)")
        let run = try Gnorm.run(["stats", "--format", "csv", "-g", "2", "--memory-limit", "32", input])
        let rows = run.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",") }
        let expected = reference.output.split(separator: "\n").map {
            $0.split(separator: " ").compactMap { Double($0) }
        }
        try #require(rows.count == 4 && expected.count == 4, "\(run.stdout) \(reference.output)")
        for (row, values) in zip(rows, expected) {
            try #require(row.count == 5 && values.count == 2, "\(row) \(values)")
            let mean = try #require(Double(row[3]))
            let variance = try #require(Double(row[4]))
            #expect(abs(mean - values[0]) < 1e-6 && abs(variance - values[1]) < 1e-6 * values[1], "\(row) \(values)")
        }
    }

    @Test(.enabled(if: PeakMemory.available, "needs /usr/bin/time"))
    func aChunkLargerThanTheLimitIsRefusedNamingOneThatHoldsIt() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let made = try Python.run("hostile_files.py", ["--big-chunk", folder])
        try #require(made.status == 0, "\(made.output)")
        let input = folder + "/big_chunk.h5"
        for limit in ["16", "80"] {
            let refused = try Gnorm.run(["stats", "-g", "2", "--memory-limit", limit, input])
            #expect(refused.status == 65, "\(refused.stderr)")
            #expect(
                refused.stderr.hasPrefix("gnorm: error: --memory-limit \(limit) is too small for this dataset")
                    && refused.stderr.contains("use --memory-limit 130 or more"), "\(refused.stderr)")
        }
        let (run, kibibytes) = try PeakMemory.measure([
            "stats", "--format", "csv", "-g", "2", "--memory-limit", "130", input,
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let bound = try PeakMemory.bound(limit: 130)
        #expect(kibibytes < bound, "peak RSS \(kibibytes) KiB, bound \(bound) KiB")
    }

    /// Attributes of a dataset written anew (--dtype f64) pass through libhdf5's memory about five
    /// times: two 100 MB ones took 509 MB. A limit below that is refused up front, naming one that holds.
    @Test(.enabled(if: PeakMemory.available, "needs /usr/bin/time"))
    func largeAttributesOfAReplacedDatasetAreCountedAgainstTheLimit() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let made = try Python.run("hostile_files.py", ["--big-attributes", folder])
        try #require(made.status == 0, "\(made.output)")
        let input = folder + "/big_attributes.h5"
        let refused = try Gnorm.run([
            "apply", "-q", "-g", "2", "--dtype", "f64", "--memory-limit", "8", input, folder + "/o.h5",
        ])
        #expect(refused.status == 65, "\(refused.stderr)")
        #expect(refused.stderr.contains("largest attribute (4 MiB)"), "\(refused.stderr)")
        #expect(refused.stderr.contains("use --memory-limit 20 or more"), "\(refused.stderr)")
        // Kept in place (same type): attributes are not copied, and the small limit is fine.
        let kept = try Gnorm.run(["apply", "-q", "-g", "2", "--memory-limit", "8", input, folder + "/kept.h5"])
        #expect(kept.status == 0, "\(kept.stderr)")
        let (run, kibibytes) = try PeakMemory.measure(
            ["apply", "-q", "-g", "2", "--dtype", "f64", "--memory-limit", "20", input, folder + "/o.h5"])
        #expect(run.status == 0, "\(run.stderr)")
        let bound = try PeakMemory.bound(limit: 20)
        #expect(kibibytes < bound, "peak RSS \(kibibytes) KiB, bound \(bound) KiB")
    }
}
