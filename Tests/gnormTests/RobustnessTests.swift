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

    /// A 25 MiB input whose gzip=9 output takes a second or more on one thread.
    private func slowInput(in folder: String) throws -> (input: String, arguments: [String]) {
        let input = folder + "/slow.h5"
        let file = try File(creating: input)
        let dataset = try file.createDataset("/x", shape: [12, 64, 64, 64], elementType: .float32)
        var state: UInt64 = 1
        let values = (0..<(12 * 64 * 64 * 64)).map { _ -> Float in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(state >> 40) / Float(1 << 24) - 0.5
        }
        try dataset.writeAll(values)
        try file.close()
        return (input, ["apply", "-q", "--threads", "1", "--memory-limit", "8", "--compression", "gzip=9", input])
    }

    @Test func interruptsRemoveTheTemporaryFile() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (input, arguments) = try slowInput(in: folder)
        for signal in [SIGINT, SIGTERM] {
            let process = try Gnorm.start(arguments + [folder + "/out.h5"])
            // Wait for the temporary OUTPUT to appear, then interrupt.
            let deadline = Date().addingTimeInterval(20)
            while try !Gnorm.listing(folder).contains(where: { $0.contains(".gnorm-tmp-") }) && Date() < deadline
                && process.isRunning
            {
                usleep(2000)
            }
            usleep(100_000)
            kill(process.processIdentifier, signal)
            process.waitUntilExit()
            #expect(process.terminationStatus == 130, "signal \(signal)")
            #expect(try Gnorm.listing(folder) == [URL(fileURLWithPath: input).lastPathComponent])
        }
    }

    @Test func killedAtAnyMomentOutputIsAbsentOrComplete() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (_, arguments) = try slowInput(in: folder)
        let reference = folder + "/reference.h5"
        let started = Date()
        #expect(try Gnorm.run(arguments + [reference]).status == 0)
        let duration = Date().timeIntervalSince(started)
        let expected = try Gnorm.read(reference, "/x")
        // Kills spread over the run, then two runs left to finish: both outcomes must occur.
        let delays = [0.02, 0.1, 0.25, 0.4, 0.55, 0.7, 0.85].map { $0 * duration } + [20 * duration, 20 * duration]
        var killedBeforeRename = 0
        var finished = 0
        for (trial, delay) in delays.enumerated() {
            let output = folder + "/out\(trial).h5"
            let process = try Gnorm.start(arguments + [output])
            let deadline = Date().addingTimeInterval(delay)
            while process.isRunning && Date() < deadline { usleep(2000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            let exists = FileManager.default.fileExists(atPath: output)
            if process.terminationReason == .exit {
                #expect(process.terminationStatus == 0 && exists, "trial \(trial): finished without OUTPUT")
                finished += 1
            } else if !exists {
                killedBeforeRename += 1
            }
            // A SIGKILL cannot be cleaned up after: temporaries may stay, OUTPUT is never partial.
            if exists {
                #expect(try Gnorm.read(output, "/x") == expected, "trial \(trial): OUTPUT exists but differs")
                #expect(try File(openingForReading: output).openDataset("/gnorm/x/mean").shape == [12, 32])
            }
        }
        #expect(killedBeforeRename >= 1, "no run was killed before its rename")
        #expect(finished >= 2, "the runs left alone must finish")
    }
}
