import Foundation
import Testing

/// Issue "a tool people like in a shell": progress on a terminal, quiet in
/// pipes, early exit under `| head`, completions.
@Suite struct ShellTests {
    /// Runs gnorm under a pseudo-terminal (util-linux `script`) and returns the raw screen bytes.
    private func underTerminal(_ arguments: [String]) throws -> String {
        let command = ([Gnorm.binary] + arguments).map { "'\($0)'" }.joined(separator: " ")
        return try Gnorm.run(["-c", "script -qec \"$0\" /dev/null", command], shell: true).stdout
    }

    @Test func progressIsDrawnInPlaceOnATerminalAndErased() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let screen = try underTerminal(["apply", "--memory-limit", "1", Gnorm.fixture("demo.h5"), folder + "/a.h5"])
        #expect(screen.contains("\r\u{1B}[2K/x [###"), "\(screen.debugDescription)")
        #expect(screen.contains("8/8 samples") && screen.contains("MB/s") && screen.contains("ETA"))
        // Erased before the summary line, which stays.
        #expect(screen.contains("\r\u{1B}[2K/x (8, 64, 32, 32) group groups=32: 524288 elements in "))

        let quiet = try underTerminal(["apply", "-q", Gnorm.fixture("demo.h5"), folder + "/b.h5"])
        #expect(quiet.isEmpty, "\(quiet.debugDescription)")
        let noBar = try underTerminal(["apply", "--no-progress", Gnorm.fixture("demo.h5"), folder + "/c.h5"])
        #expect(!noBar.contains("\u{1B}[2K") && noBar.contains("groups=32"))
        // Not a terminal: the summary only.
        let piped = try Gnorm.run(["apply", Gnorm.fixture("demo.h5"), folder + "/d.h5"])
        #expect(!piped.stderr.contains("\u{1B}") && piped.stderr.hasPrefix("/x (8, 64, 32, 32) group groups=32"))
    }

    @Test func statsTableOnATerminalCsvInAPipe() throws {
        let table = try underTerminal(["stats", "--limit", "3", Gnorm.fixture("demo.h5")])
        #expect(table.contains("dataset  sample  group"), "\(table)")
        #expect(table.contains("… /x: 253 more rows"))
        let piped = try Gnorm.run(["stats", Gnorm.fixture("demo.h5")])
        #expect(piped.stdout.hasPrefix("dataset,sample,group,mean,var\n"))
        #expect(piped.stdout.split(separator: "\n").count == 1 + 8 * 32)
    }

    @Test func headEndsTheStreamEarlyAndQuietly() throws {
        // bash for PIPESTATUS: gnorm's own status when `head` closes the pipe early.
        let run = try Gnorm.run(
            [
                "-c",
                "exec bash -c '\"$0\" stats --format ndjson --memory-limit 1 \"$1\" | head -n 2; "
                    + "echo \"status ${PIPESTATUS[0]}\"' \"$0\" \"$1\"",
                Gnorm.binary, Gnorm.fixture("demo.h5"),
            ], shell: true)
        let lines = run.stdout.split(separator: "\n")
        #expect(
            lines.count == 3 && lines[0].hasPrefix("{\"dataset\":\"/x\",\"sample\":0,\"group\":0,"), "\(run.stdout)")
        #expect(lines.last == "status 0", "\(run.stdout)")
        #expect(run.stderr.isEmpty, "\(run.stderr)")
    }

    @Test func completionScriptsNameEveryCommandAndOption() throws {
        for shell in ["bash", "zsh", "fish"] {
            let script = try Gnorm.run(["--generate-completion-script", shell])
            #expect(script.status == 0)
            for word in [
                "apply", "invert", "stats", "ls", "group-size", "compression", "format", "in-place", "keep-stats",
            ] {
                #expect(script.stdout.contains(word), "\(shell) completion lacks \(word)")
            }
        }
    }

    @Test func theManualPageDocumentsEveryCommand() throws {
        let page = try String(contentsOfFile: Gnorm.root + "/Documentation/gnorm.1", encoding: .utf8)
        for word in [
            ".It Em apply", ".It Em invert", ".It Em stats", ".It Em ls", "group-size", "compression", "in-place",
            "memory-limit", "keep-stats",
        ] {
            #expect(page.contains(word), "gnorm.1 lacks \(word)")
        }
    }
}
