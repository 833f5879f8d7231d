import Foundation
import HDF5
import Testing

/// Issue "nothing lost": hostile files, resource limits and signals never leave
/// a partial OUTPUT or a temporary file, and never touch INPUT.
@Suite(.serialized) struct RobustnessTests {
    let bad = Gnorm.fixture("bad.h5")

    @Test func unsupportedDatasetsAreRefusedWithStatus65() throws {
        let cases: [(String, String)] = [
            ("/scalar", "rank 0"), ("/vector", "rank 1"), ("/compound", "compound"), ("/enum", "enum"),
            ("/reference", "reference"), ("/strings", "string"), ("/no_channels", "no channels"),
            ("/huge", "more elements than can be addressed"),
        ]
        for (dataset, words) in cases {
            let run = try Gnorm.run(["stats", "-g", "1", "-d", dataset, bad])
            #expect(run.status == 65, "\(dataset): \(run.stderr)")
            #expect(
                run.stderr.hasPrefix("gnorm: error: ") && run.stderr.contains(words)
                    && run.stderr.contains("bad.h5:\(dataset)"),
                "\(run.stderr)")
        }
    }

    @Test func aMissingFilterIsAReadFailureThatNamesWhatProvidesIt() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // An empty plugin path hides Debian's lzf plugin, which `make test` installs.
        let hidden = ["HDF5_PLUGIN_PATH": folder]
        let run = try Gnorm.run(["apply", "-g", "2", "-d", "/lzf", bad, folder + "/o.h5"], environment: hidden)
        #expect(run.status == 74, "\(run.stderr)")
        #expect(run.stderr.contains("filter 'lzf' (id 32000) is not available"), "\(run.stderr)")
        #expect(run.stderr.contains("hdf5-plugin-lzf") && run.stderr.contains("HDF5_PLUGIN_PATH"), "\(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1)
        #expect(try Gnorm.listing(folder).isEmpty)
    }

    @Test func lzfDataReadsThroughDebiansPlugin() throws {
        let run = try Gnorm.run(["stats", "--format", "csv", "-g", "2", "-d", "/lzf", bad])
        #expect(run.status == 0, "\(run.stderr)")
        // The fixture repeats each (sample, channel) value 256 times: 2 channels per group.
        #expect(run.stdout.split(separator: "\n").count == 1 + 2 * 2)
    }

    @Test func truncatedFilesAreAnsweredNotCrashedOn() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let demo = try Data(contentsOf: URL(fileURLWithPath: Gnorm.fixture("demo.h5")))
        try demo.prefix(64).write(to: URL(fileURLWithPath: folder + "/superblock.h5"))
        try demo.prefix(demo.count * 7 / 10).write(to: URL(fileURLWithPath: folder + "/data.h5"))
        let superblock = try Gnorm.run(["apply", folder + "/superblock.h5", folder + "/o1.h5"])
        #expect(superblock.status == 66, "\(superblock.stderr)")
        let data = try Gnorm.run(["apply", folder + "/data.h5", folder + "/o2.h5"])
        #expect([66, 74].contains(data.status), "\(data.stderr)")
        #expect(data.stderr.split(separator: "\n").count == 1)
        #expect(try Gnorm.listing(folder) == ["data.h5", "superblock.h5"])
    }

    @Test func aFileSizeLimitGivesStatus74AndNoPartialFile() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // 64 KiB: far less than the 2 MiB that demo.h5's normalized copy needs.
        let run = try Gnorm.run(
            [
                "-c", "ulimit -f 128; exec \"$0\" apply -q \"$1\" \"$2\"", Gnorm.binary,
                Gnorm.fixture("demo.h5"), folder + "/o.h5",
            ], shell: true)
        #expect(run.status == 74, "\(run.stderr)")
        #expect(run.stderr.hasPrefix("gnorm: error: cannot write"), "\(run.stderr)")
        #expect(try Gnorm.listing(folder).isEmpty)
    }

    /// Runs `body` with a fresh 1 MiB tmpfs mounted with `options` (tests that call it are enabled
    /// only where `Conditions.canMountTmpfs`).
    private func withSmallTmpfs(_ options: String, _ body: (String) throws -> Void) throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let mountPoint = folder + "/mount"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let mount = try Gnorm.run(
            ["-c", "mount -t tmpfs -o \"$1\",size=1m tmpfs \"$0\"", mountPoint, options], shell: true)
        try #require(mount.status == 0, "cannot mount a tmpfs: \(mount.stderr)")
        defer { _ = try? Gnorm.run(["-c", "umount \"$0\"", mountPoint], shell: true) }
        try body(mountPoint)
    }

    @Test(.enabled(if: Conditions.canMountTmpfs, "mounts a tmpfs"))
    func aFullDiskGivesStatus74AndNoPartialFile() throws {
        // demo.h5's output needs about 2 MiB.
        try withSmallTmpfs("rw") { mountPoint in
            let input = Gnorm.fixture("demo.h5")
            let before = try Data(contentsOf: URL(fileURLWithPath: input))
            let run = try Gnorm.run(["apply", "-q", "--compression", "none", input, mountPoint + "/out.h5"])
            #expect(run.status == 74, "\(run.stderr)")
            #expect(run.stderr.contains("No space left on device"), "\(run.stderr)")
            #expect(try Gnorm.listing(mountPoint).isEmpty)
            #expect(try Data(contentsOf: URL(fileURLWithPath: input)) == before)
        }
    }

    @Test func aFailedInPlaceRunLeavesInputByteForByte() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let copy = folder + "/data.h5"
        try FileManager.default.copyItem(atPath: Gnorm.fixture("demo.h5"), toPath: copy)
        let before = try Data(contentsOf: URL(fileURLWithPath: copy))
        let run = try Gnorm.run(
            [
                "-c", "ulimit -f 128; exec \"$0\" apply -q --in-place --compression none \"$1\"",
                Gnorm.binary, copy,
            ], shell: true)
        #expect(run.status == 74, "\(run.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: copy)) == before)
        #expect(try Gnorm.listing(folder) == ["data.h5"])
    }

    @Test(.enabled(if: Conditions.canMountTmpfs, "mounts a tmpfs"))
    func aReadOnlyFolderIsRefusedWithStatus73() throws {
        // Root may write to any folder whose mode says otherwise; a read-only mount binds it too.
        try withSmallTmpfs("ro") { mountPoint in
            let run = try Gnorm.run(["apply", "-q", Gnorm.fixture("demo.h5"), mountPoint + "/out.h5"])
            #expect(run.status == 73, "\(run.stderr)")
            #expect(run.stderr.contains("not writable"), "\(run.stderr)")
        }
    }

    /// A 1.5 MiB input of 12 samples that `--memory-limit 1` reads in slabs, in two passes: gnorm checks
    /// INPUT after each (`InputWatch`), and `GNORM_TEST_INPUT_HOOK=N:COMMAND` runs COMMAND once the
    /// Nth check has passed, while earlier slabs are being normalized, compressed and written.
    private func slabbedInput(in folder: String) throws -> (input: String, arguments: [String]) {
        let input = folder + "/slabbed.h5"
        let file = try File(creating: input)
        let dataset = try file.createDataset("/x", shape: [12, 32, 32, 32], elementType: .float32)
        var state: UInt64 = 1
        let values = (0..<(12 * 32 * 32 * 32)).map { _ -> Float in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(state >> 40) / Float(1 << 24) - 0.5
        }
        try dataset.writeAll(values)
        try file.close()
        return (input, ["apply", "-q", "--memory-limit", "1", "--compression", "gzip=1", input])
    }

    /// A signal in the middle of the write (after the second slab's check, the temporary file
    /// present: the hook sends the signal only then) ends the run with 130 and no file left.
    @Test func interruptsRemoveTheTemporaryFile() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (input, arguments) = try slabbedInput(in: folder)
        for signal in ["INT", "TERM"] {
            let hook = "2:ls -a '\(folder)' | grep -q gnorm-tmp- && kill -\(signal) $PPID"
            let run = try Gnorm.run(arguments + [folder + "/out.h5"], environment: ["GNORM_TEST_INPUT_HOOK": hook])
            #expect(run.status == 130, "SIG\(signal): \(run.stderr)")
            #expect(try Gnorm.listing(folder) == [URL(fileURLWithPath: input).lastPathComponent])
        }
    }

    /// SIGKILL after each of gnorm's checks of INPUT (every slab boundary, earlier slabs still in
    /// flight to OUTPUT) and at the pause just before the rename: OUTPUT never appears; the first
    /// hook number past the last check lets the run finish, with OUTPUT the reference's.
    @Test func killedAtAnyMomentOutputIsAbsentOrComplete() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (_, arguments) = try slabbedInput(in: folder)
        let reference = folder + "/reference.h5"
        #expect(try Gnorm.run(arguments + [reference]).status == 0)
        let expected = try Gnorm.read(reference, "/x")
        #expect(expected.count == 12 * 32 * 32 * 32)
        let hooked = folder + "/hooked"
        var killed = 0
        for check in 1...100 {
            let output = folder + "/out\(check).h5"
            let hook = "\(check):touch '\(hooked)' && kill -KILL $PPID"
            let run = try Gnorm.run(arguments + [output], environment: ["GNORM_TEST_INPUT_HOOK": hook])
            guard FileManager.default.fileExists(atPath: hooked) else {
                // Past the last check: the run was left alone and must have finished.
                #expect(run.status == 0, "\(run.stderr)")
                #expect(try Gnorm.read(output, "/x") == expected)
                #expect(try File(openingForReading: output).openDataset("/gnorm/x/mean").shape == [12, 32])
                break
            }
            try FileManager.default.removeItem(atPath: hooked)
            // Foundation reports death by a signal as its number.
            #expect(run.status == SIGKILL && run.stderr.isEmpty, "check \(check): \(run.status) \(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: output), "check \(check): OUTPUT after SIGKILL")
            killed += 1
        }
        // A check per sample in each pass (statistics, then normalization): at least 24 moments.
        #expect(killed >= 24, "only \(killed) slab boundaries: the input no longer spans several slabs")
        // The last moment before OUTPUT would appear.
        let output = folder + "/paused.h5"
        let paused = try PausedRun(arguments + [output], in: folder)
        #expect(paused.reachedPause())
        kill(paused.pid, SIGKILL)
        _ = paused.resume()
        #expect(!FileManager.default.fileExists(atPath: output))
    }
}
