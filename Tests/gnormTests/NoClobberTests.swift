import Foundation
import HDF5
import Testing

/// A gnorm run stopped just before it puts its finished file in place
/// (`GNORM_TEST_PAUSE_BEFORE_COMMIT`, Temporaries.swift): what happens "during the run" is
/// done while it waits, so the races of issue 21 are deterministic.
final class PausedRun {
    let process = Process()
    private let fifo: String
    private let errors = Pipe()
    private var writer: Int32 = -1

    init(_ arguments: [String], in folder: String, shell: Bool = false, environment: [String: String] = [:]) throws {
        fifo = folder + "/pause-" + UUID().uuidString
        #expect(mkfifo(fifo, 0o600) == 0)
        process.executableURL = URL(fileURLWithPath: shell ? "/bin/sh" : Gnorm.binary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            .merging(["GNORM_TEST_PAUSE_BEFORE_COMMIT": fifo]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        // If gnorm ends without reaching the pause, this reader releases reachedPause's open; it
        // stays open (until the test ends) so that an open after gnorm ended returns at once too.
        process.terminationHandler = { [fifo] _ in _ = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC) }
        try process.run()
    }

    /// Returns once gnorm waits at the pause (it opened the FIFO), or false when it ended before:
    /// opening a FIFO for writing blocks until someone opens it for reading.
    @discardableResult
    func reachedPause() -> Bool {
        writer = open(fifo, O_WRONLY | O_CLOEXEC)
        return writer >= 0 && process.isRunning
    }

    var pid: Int32 { process.processIdentifier }

    /// Lets gnorm go on and waits for it: (status, stderr).
    func resume() -> (status: Int32, stderr: String) {
        if writer >= 0 { close(writer) }
        writer = -1
        process.waitUntilExit()
        unlink(fifo)
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (process.terminationStatus, text)
    }
}

/// Issue 21, output half: OUTPUT is never replaced unless --force allowed it and never when it
/// is not a regular file; signals leave no temporary file; the command line is Unix's.
@Suite(.serialized) struct NoClobberTests {
    let demo = Gnorm.fixture("demo.h5")

    private func temporaries(_ folder: String) throws -> [String] {
        try Gnorm.listing(folder).filter { $0.contains(".gnorm-tmp-") || $0.contains(".gnorm-stdout-") }
    }

    private func isHDF5(_ path: String) -> Bool {
        (try? File(openingForReading: path).openDataset("/gnorm/x/mean")) != nil
    }

    @Test func aFileThatAppearsDuringTheRunIsKept() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let output = folder + "/o.h5"
        let run = try PausedRun(["apply", "-q", demo, output], in: folder)
        #expect(run.reachedPause())
        try "data\n".write(toFile: output, atomically: false, encoding: .utf8)
        let (status, stderr) = run.resume()
        #expect(status == 73, "\(stderr)")
        #expect(stderr.contains("appeared during the run") && stderr.split(separator: "\n").count == 1, "\(stderr)")
        #expect(try String(contentsOfFile: output, encoding: .utf8) == "data\n")
        #expect(try temporaries(folder).isEmpty)
    }

    @Test func twoRunsToOneOutputWithoutForceOneWins() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let output = folder + "/o.h5"
        let first = try PausedRun(["apply", "-q", "-g", "4", demo, output], in: folder)
        let second = try PausedRun(["apply", "-q", "-g", "8", demo, output], in: folder)
        #expect(first.reachedPause() && second.reachedPause())
        #expect(first.resume().status == 0)
        let (status, stderr) = second.resume()
        #expect(status == 73 && stderr.contains("appeared during the run"), "\(stderr)")
        #expect(try File(openingForReading: output).attribute("groups", on: "/gnorm/x") == .integer(4))
        #expect(try temporaries(folder).isEmpty)
    }

    @Test func aFileThatAppearsDuringABatchIsKeptAndTheOthersAreWritten() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let names = ["a.h5", "b.h5", "c.h5"]
        for name in names { try FileManager.default.copyItem(atPath: demo, toPath: folder + "/" + name) }
        let out = folder + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        let run = try PausedRun(["apply", "-q", "--output-dir", out] + names.map { folder + "/" + $0 }, in: folder)
        #expect(run.reachedPause())
        try "data\n".write(toFile: out + "/b.h5", atomically: false, encoding: .utf8)
        let (status, stderr) = run.resume()
        #expect(status == 73 && stderr.contains("appeared during the run") && stderr.contains("b.h5"), "\(stderr)")
        #expect(try String(contentsOfFile: out + "/b.h5", encoding: .utf8) == "data\n")
        #expect(isHDF5(out + "/a.h5") && isHDF5(out + "/c.h5"))
        #expect(try temporaries(out).isEmpty)
    }

    @Test func forceReplacesOnlyRegularFiles() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(mkfifo(folder + "/fifo.h5", 0o644) == 0)
        try FileManager.default.createSymbolicLink(atPath: folder + "/null.h5", withDestinationPath: "/dev/null")
        try FileManager.default.createDirectory(atPath: folder + "/dir.h5", withIntermediateDirectories: false)
        for (name, kind) in [
            ("fifo.h5", "a FIFO"), ("null.h5", "a symbolic link to a character device"),
            ("dir.h5", "a directory"),
        ] {
            let run = try Gnorm.run(["apply", "-q", "-f", demo, folder + "/" + name])
            #expect(run.status == 73 && run.stderr.contains("OUTPUT is \(kind)"), "\(name): \(run.stderr)")
        }
        var status = stat()
        #expect(lstat(folder + "/fifo.h5", &status) == 0 && status.st_mode & S_IFMT == S_IFIFO)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: folder + "/null.h5") == "/dev/null")
        // A FIFO that appears during a --force run stays too: the names are swapped back.
        let output = folder + "/late.h5"
        let run = try PausedRun(["apply", "-q", "-f", demo, output], in: folder)
        #expect(run.reachedPause())
        #expect(mkfifo(output, 0o644) == 0)
        let (late, stderr) = run.resume()
        #expect(late == 73 && stderr.contains("OUTPUT is a FIFO"), "\(stderr)")
        #expect(lstat(output, &status) == 0 && status.st_mode & S_IFMT == S_IFIFO)
        // A dangling link is a name in use: replaced with --force only (the link, not its target).
        try FileManager.default.createSymbolicLink(atPath: folder + "/dangling.h5", withDestinationPath: "nowhere")
        #expect(try Gnorm.run(["apply", "-q", demo, folder + "/dangling.h5"]).status == 73)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: folder + "/dangling.h5") == "nowhere")
        #expect(try Gnorm.run(["apply", "-q", "-f", demo, folder + "/dangling.h5"]).status == 0)
        #expect(isHDF5(folder + "/dangling.h5") && !FileManager.default.fileExists(atPath: folder + "/nowhere"))
        #expect(try temporaries(folder).isEmpty)
    }

    @Test func inPlaceLeavesAnInputThatWasReplacedDuringTheRun() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let input = folder + "/data.h5"
        try FileManager.default.copyItem(atPath: demo, toPath: input)
        let run = try PausedRun(["apply", "-q", "--in-place", input], in: folder)
        #expect(run.reachedPause())
        unlink(input)
        try "new\n".write(toFile: input, atomically: false, encoding: .utf8)
        let (status, stderr) = run.resume()
        // INPUT changing during the run is SPEC §5's read failure (74, InputWatch), whether the
        // commit's own check (73, "INPUT was replaced") or the watch sees it first.
        #expect(status == 74 && stderr.contains("its name now names another file"), "\(stderr)")
        #expect(try String(contentsOfFile: input, encoding: .utf8) == "new\n")
        #expect(try temporaries(folder).isEmpty)
    }

    @Test func everyCatchableSignalRemovesTheTemporaryFile() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let signals = [
            SIGHUP, SIGUSR1, SIGUSR2, SIGALRM, SIGXCPU, SIGVTALRM, SIGPROF, SIGSEGV, SIGABRT, SIGFPE, SIGILL,
            SIGTRAP, SIGSYS, SIGQUIT, SIGPWR, SIGINT, SIGTERM,
        ]
        for signalNumber in signals {
            let output = folder + "/o.h5"
            // The Swift runtime's backtrace (the previous action of crash signals) is not wanted here.
            let run = try PausedRun(
                ["apply", "-q", demo, output], in: folder, environment: ["SWIFT_BACKTRACE": "enable=no"])
            #expect(run.reachedPause())
            #expect(try temporaries(folder).count == 1)
            kill(run.pid, signalNumber)
            _ = run.resume()
            if signalNumber == SIGINT || signalNumber == SIGTERM {
                #expect(run.process.terminationReason == .exit && run.process.terminationStatus == 130)
            } else {
                // Raised again with its own action: the caller sees the signal.
                #expect(
                    run.process.terminationReason == .uncaughtSignal
                        && run.process.terminationStatus == signalNumber, "signal \(signalNumber)")
            }
            #expect(try temporaries(folder).isEmpty, "signal \(signalNumber)")
            #expect(!FileManager.default.fileExists(atPath: output))
        }
    }

    /// The bits of a signal mask line ("SigIgn:", "SigCgt:") of /proc/PID/status.
    private func signalMask(_ field: String, of pid: Int32) throws -> UInt64 {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = status.split(separator: "\n").first { $0.hasPrefix(field) } ?? ""
        return UInt64(line.dropFirst(field.count).trimmingCharacters(in: .whitespaces), radix: 16) ?? 0
    }

    @Test func aSignalTheCallerIgnoredStaysIgnored() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let output = folder + "/o.h5"
        // sh ignores SIGINT and SIGHUP (a background job, nohup) and execs gnorm: same process.
        let run = try PausedRun(
            ["-c", "trap '' INT HUP; exec \"$0\" apply -q \"$1\" \"$2\"", Gnorm.binary, demo, output], in: folder,
            shell: true)
        #expect(run.reachedPause())
        let ignored = try signalMask("SigIgn:", of: run.pid)
        let caught = try signalMask("SigCgt:", of: run.pid)
        for signalNumber in [SIGINT, SIGHUP] { #expect(ignored & (1 << UInt64(signalNumber - 1)) != 0) }
        for signalNumber in [SIGTERM, SIGUSR1, SIGSEGV] { #expect(caught & (1 << UInt64(signalNumber - 1)) != 0) }
        kill(run.pid, SIGINT)
        kill(run.pid, SIGHUP)
        let (status, stderr) = run.resume()
        #expect(status == 0 && isHDF5(output), "\(stderr)")
    }

    @Test func standardOutputLeavesNoFileInTMPDIREvenAfterSIGKILL() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let temporary = folder + "/tmp"
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: false)
        let run = try PausedRun(["apply", "-q", demo, "-"], in: folder, environment: ["TMPDIR": temporary])
        #expect(run.reachedPause())
        #expect(try Gnorm.listing(temporary).isEmpty)
        kill(run.pid, SIGKILL)
        _ = run.resume()
        #expect(try Gnorm.listing(temporary).isEmpty)
    }

    private static var host: String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, 255)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    @Test func theNextRunInTheFolderRemovesWhatSIGKILLLeft() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = try PausedRun(["apply", "-q", demo, folder + "/killed.h5"], in: folder)
        #expect(run.reachedPause())
        kill(run.pid, SIGKILL)
        _ = run.resume()
        let left = try temporaries(folder)
        #expect(left.count == 1 && left[0].contains("-\(run.pid)-"), "\(left)")
        // A live run's temporary (this test's PID) and another machine's stay.
        let live = ".x.h5.gnorm-tmp-\(Self.host)-\(getpid())-1"
        let elsewhere = ".x.h5.gnorm-tmp-some-other-host-\(run.pid)-1"
        for name in [live, elsewhere] { _ = FileManager.default.createFile(atPath: folder + "/" + name, contents: nil) }
        #expect(try Gnorm.run(["apply", "-q", demo, folder + "/next.h5"]).status == 0)
        #expect(try temporaries(folder) == [live, elsewhere].sorted())
    }

    @Test func severalFilesEndWithTheStatusOfTheirFailure() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let inputs = (0..<3).map { folder + "/in\($0).h5" }
        for input in inputs { try FileManager.default.copyItem(atPath: demo, toPath: input) }
        try FileManager.default.createDirectory(atPath: folder + "/out", withIntermediateDirectories: false)
        // 1 MiB: the first OUTPUT (2 MiB) fails midway; libhdf5's exit handler must not run (139).
        let outputDirectory = try Gnorm.run(
            [
                "-c",
                "ulimit -f 1024; exec \"$0\" apply -q --compression none --output-dir \"$1\" \"$2\" \"$3\" \"$4\"",
                Gnorm.binary, folder + "/out",
            ] + inputs, shell: true)
        #expect(outputDirectory.status == 74, "\(outputDirectory.stderr)")
        let inPlace = try Gnorm.run(
            [
                "-c", "ulimit -f 1024; exec \"$0\" apply -q --compression none --in-place \"$1\" \"$2\" \"$3\"",
                Gnorm.binary,
            ] + inputs, shell: true)
        #expect(inPlace.status == 74, "\(inPlace.stderr)")
        #expect(try Gnorm.listing(folder + "/out").isEmpty && temporaries(folder).isEmpty)
    }

    @Test(.enabled(if: Conditions.canMountTmpfs, "mounts a tmpfs"))
    func aBatchRunningOutOfSpaceAtAnyPointEndsWith74() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let inputs = (0..<3).map { folder + "/in\($0).h5" }
        for input in inputs { try FileManager.default.copyItem(atPath: demo, toPath: input) }
        // ENOSPC at every point of a batch: 74 each time, no temporary left.
        let mountPoint = folder + "/mount"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
        for size in stride(from: 1500, to: 2800, by: 100) {
            let mount = try Gnorm.run(["-c", "mount -t tmpfs -o size=\(size)k tmpfs \"$0\"", mountPoint], shell: true)
            try #require(mount.status == 0, "cannot mount a tmpfs: \(mount.stderr)")
            defer { _ = try? Gnorm.run(["-c", "umount \"$0\"", mountPoint], shell: true) }
            let full = try Gnorm.run(["apply", "-q", "--compression", "none", "--output-dir", mountPoint] + inputs)
            #expect(full.status == 74, "\(size) KiB: \(full.stderr)")
            #expect(try temporaries(mountPoint).isEmpty)
        }
    }

    @Test func commandLinesReadAsUnixToolsReadThem() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.copyItem(atPath: demo, toPath: folder + "/-x.h5")
        let dashed = try Gnorm.run(["apply", "-q", "-g", "4", "-x.h5", "out.h5"], in: folder)
        #expect(dashed.status == 64 && dashed.stderr.contains("./-x.h5") && dashed.stdout.isEmpty, "\(dashed.stderr)")
        #expect(try Gnorm.run(["apply", "-q", "-g", "4", "--", "-x.h5", "out.h5"], in: folder).status == 0)
        #expect(try Gnorm.run(["apply", "-q", "-g", "4", "./-x.h5", "out2.h5"], in: folder).status == 0)
        #expect(try Gnorm.run(["apply", "-qf", "-g", "4", "./-x.h5", "out2.h5"], in: folder).status == 0)
        try expectGnorm(
            ["apply", "--eps", "-1e-5", demo, folder + "/o.h5"], exits: 64,
            mentions: ["--eps must be a finite number ≥ 0"])
        try expectGnorm(["stats", "-g", "-4", demo], exits: 64, mentions: ["--groups must be at least 1, got -4"])
        for command in [["ls"], ["stats"], ["apply", "-q", "-g", "4"]] {
            let full = try Gnorm.run(
                ["-c", "exec \"$0\" \"$@\" > /dev/full", Gnorm.binary] + command + [demo]
                    + (command.count > 1 ? ["-"] : []),
                shell: true)
            #expect(full.status == 74 && full.stderr.contains("No space left on device"), "\(command): \(full.stderr)")
        }
        let help = try Gnorm.run(["-c", "exec \"$0\" --help > /dev/full", Gnorm.binary], shell: true)
        #expect(help.status == 74)
    }

    @Test func aReportIsNeverLeftTruncated() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "old\n".write(toFile: folder + "/report.csv", atomically: false, encoding: .utf8)
        // 64 KiB: the report fits, OUTPUT does not; the report must not replace the old one.
        let run = try Gnorm.run(
            [
                "-c", "ulimit -f 128; exec \"$0\" apply -q -f --report \"$1\" \"$2\" \"$3\"", Gnorm.binary,
                folder + "/report.csv", demo, folder + "/o.h5",
            ], shell: true)
        #expect(run.status == 74, "\(run.stderr)")
        #expect(try String(contentsOfFile: folder + "/report.csv", encoding: .utf8) == "old\n")
        #expect(try Gnorm.listing(folder) == ["report.csv"])
        // Enough room: the report replaces the old one, complete.
        let done = try Gnorm.run(["apply", "-q", "-g", "4", "--report", folder + "/report.csv", demo, folder + "/o.h5"])
        #expect(done.status == 0, "\(done.stderr)")
        let lines = try String(contentsOfFile: folder + "/report.csv", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 1 + 8 * 4 && lines[0] == "dataset,sample,group,mean,var")
    }

    @Test func oddFileNamesStayOnOneLineAndInTheHistory() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let odd = folder + "/two\nlines 'q'.h5"
        let missing = try Gnorm.run(["apply", "-q", odd, folder + "/o.h5"])
        #expect(missing.status == 66 && missing.stderr.split(separator: "\n").count == 1, "\(missing.stderr)")
        #expect(missing.stderr.contains("two\\nlines 'q'.h5"))
        try FileManager.default.copyItem(atPath: demo, toPath: odd)
        let output = folder + "/out put.h5"
        #expect(try Gnorm.run(["apply", "-q", "-g", "4", odd, output]).status == 0)
        guard case .string(let history)? = try File(openingForReading: output).attribute("history") else {
            Issue.record("no history")
            return
        }
        let line = String(history.split(separator: "\n").last ?? "")
        #expect(line.hasSuffix("apply -q -g 4 $'\(folder)/two\\nlines \\'q\\'.h5' '\(folder)/out put.h5'"), "\(line)")
        // bash reads the quoted command back as the same arguments.
        let command = String(line[line.range(of: ": gnorm ")!.upperBound...])
        let words = try Gnorm.run(["-c", "exec bash -c \"$0\"", "printf '%s\\n' " + command], shell: true)
        #expect(words.stdout == "apply\n-q\n-g\n4\n\(odd)\n\(output)\n", "\(words.stdout)")
    }

    @Test func inPlaceKeepsOwnerModeAndExtendedAttributes() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let input = folder + "/data.h5"
        try FileManager.default.copyItem(atPath: demo, toPath: input)
        let root = getuid() == 0
        if root { #expect(chown(input, 65534, 65534) == 0) }
        #expect(chmod(input, 0o640) == 0)
        let python = ProcessInfo.processInfo.environment["GNORM_TEST_PYTHON"] ?? "python3"
        let setAttribute = try Gnorm.run(
            [
                "-c", "exec \"$0\" -c 'import os,sys; os.setxattr(sys.argv[1], \"user.origin\", b\"lab 7\")' \"$1\"",
                python, input,
            ], shell: true)
        let hasAttributes = setAttribute.status == 0
        var before = stat()
        stat(input, &before)
        let run = try Gnorm.run(["apply", "-q", "--in-place", "-g", "4", input])
        #expect(run.status == 0 && run.stderr.isEmpty, "\(run.stderr)")
        var after = stat()
        stat(input, &after)
        #expect(after.st_ino != before.st_ino && isHDF5(input))
        #expect(after.st_mode & 0o7777 == 0o640 && after.st_uid == before.st_uid && after.st_gid == before.st_gid)
        if hasAttributes {
            let read = try Gnorm.run(
                [
                    "-c",
                    "exec \"$0\" -c 'import os,sys; print(os.getxattr(sys.argv[1], \"user.origin\").decode())' \"$1\"",
                    python, input,
                ], shell: true)
            #expect(read.stdout == "lab 7\n", "\(read.stderr)")
        } else {
            // Reported as a known issue, not passed: this filesystem keeps no user attributes.
            withKnownIssue("no user extended attributes here") { Issue.record("\(setAttribute.stderr)") }
        }
    }

    @Test func inPlaceRefusesHardLinks() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let input = folder + "/data.h5"
        try FileManager.default.copyItem(atPath: demo, toPath: input)
        try FileManager.default.linkItem(atPath: input, toPath: folder + "/other.h5")
        let before = try Data(contentsOf: URL(fileURLWithPath: input))
        try expectGnorm(["apply", "-q", "--in-place", input], exits: 73, mentions: ["2 hard links"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: input)) == before)
    }

    /// As another user (setpriv, as root): a file that user cannot write, in a folder it can.
    @Test(.enabled(if: Conditions.isRoot, "runs gnorm as nobody"))
    func inPlaceRefusesAFileTheUserCannotWrite() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let input = folder + "/data.h5"
        try FileManager.default.copyItem(atPath: demo, toPath: input)
        let before = try Data(contentsOf: URL(fileURLWithPath: input))
        #expect(chmod(folder, 0o777) == 0 && chmod(input, 0o644) == 0)
        let asNobody = try Gnorm.run(
            [
                "-c", "exec setpriv --reuid=65534 --regid=65534 --clear-groups \"$0\" apply -q --in-place \"$1\"",
                Gnorm.binary, input,
            ], shell: true)
        #expect(asNobody.status == 73 && asNobody.stderr.contains("not writable by you"), "\(asNobody.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: input)) == before)
        #expect(try Gnorm.listing(folder) == ["data.h5"])
    }
}
