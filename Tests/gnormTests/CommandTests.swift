import Foundation
import HDF5
import Testing

@Suite struct CommandTests {
    let cases = Gnorm.fixture("cases.h5")
    let expected = Gnorm.fixture("expected.h5")

    @Test func applyWritesTheNormalizedDatasetStatisticsAndHistory() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let output = folder + "/out.h5"
        let run = try Gnorm.run(["apply", "--groups", "2", "-d", "/seed", cases, output])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains("/seed (2, 10, 3, 3) group groups=2"))
        let y = try Gnorm.read(output, "/seed")
        let reference = try Gnorm.read(expected, "/seed/y")
        #expect(elementwise(y, reference) { abs($0 - $1) <= 3e-6 })
        let file = try File(openingForReading: output)
        guard case .string(let history)? = try file.attribute("history") else {
            Issue.record("no history")
            return
        }
        #expect(history.hasSuffix(": gnorm apply --groups 2 -d /seed \(cases) \(output)"))
        #expect(try Gnorm.listing(folder) == ["out.h5"])

        let second = try Gnorm.run(["apply", "-q", "--no-history", "-g", "2", "-d", "seed", "-f", cases, output])
        #expect(second.status == 0 && second.stderr.isEmpty)
        #expect(try File(openingForReading: output).attribute("history") == nil)
    }

    @Test func epsAndNonFiniteWarningsReachTheUser() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let eps = try Gnorm.run(["apply", "-q", "-g", "3", "--eps", "0.5", "-d", "/eps", cases, folder + "/e.h5"])
        #expect(eps.status == 0)
        let y = try Gnorm.read(folder + "/e.h5", "/eps")
        #expect(elementwise(y, try Gnorm.read(expected, "/eps/y")) { abs($0 - $1) <= 3e-6 })
        // /special holds one NaN in sample 1, group 1: apply warns with the count.
        let special = try Gnorm.run(["apply", "-g", "2", "-d", "/special", cases, folder + "/s.h5"])
        #expect(special.status == 0)
        #expect(
            special.stderr.contains("warning: 1 group(s) of /special held NaN or Inf and came out NaN"),
            "\(special.stderr)")
        let stats = try Gnorm.run(["stats", "-g", "2", "-d", "/special", "--format", "csv", cases])
        #expect(stats.stdout.contains("/special,1,1,nan,nan"))
        #expect(stats.stderr == "gnorm: warning: 1 group(s) of /special held NaN or Inf and came out NaN\n")
    }

    @Test func aSoftLinkSelectsItsTargetAndStays() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let output = folder + "/l.h5"
        let run = try Gnorm.run(["apply", "-q", "-g", "2", "-d", "/link_to_seed", cases, output])
        #expect(run.status == 0, "\(run.stderr)")
        let y = try Gnorm.read(output, "/link_to_seed")
        #expect(y == (try Gnorm.read(output, "/seed")))
        #expect(elementwise(y, try Gnorm.read(expected, "/seed/y")) { abs($0 - $1) <= 3e-6 })
        #expect(try File(openingForReading: output).kindOfObject(at: "/gnorm/seed/mean") == .dataset)
    }

    @Test func aSecondHardLinkNamesTheNormalizedDataset() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let input = folder + "/in.h5"
        do {
            let file = try File(creating: input)
            let dataset = try file.createDataset("/a", shape: [2, 4, 3, 3], elementType: .float32)
            try dataset.writeAll((0..<72).map { Float($0 % 7) })
            try file.createHardLink("/b", to: "/a")
            try file.close()
        }
        let run = try Gnorm.run(["apply", "-q", "-g", "2", input, folder + "/out.h5"])
        #expect(run.status == 0, "\(run.stderr)")
        let a = try Gnorm.read(folder + "/out.h5", "/a")
        #expect(a == (try Gnorm.read(folder + "/out.h5", "/b")))
        #expect(a != (try Gnorm.read(input, "/a")))
    }

    @Test func threadCountsAndInstructionSetsGiveBitwiseIdenticalFiles() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let hasAVX2 = ((try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? "").contains(" avx2")
        var runs = [("1", "baseline"), ("2", "auto"), ("5", "baseline")]
        if hasAVX2 { runs += [("1", "avx2"), ("3", "avx2")] }
        var outputs: [[Double]] = []
        for (index, (threads, cpu)) in runs.enumerated() {
            let output = folder + "/t\(index).h5"
            let run = try Gnorm.run([
                "apply", "-q", "--threads", threads, "--cpu", cpu, "-d", "/offset", "-g", "4", cases, output,
            ])
            #expect(run.status == 0, "\(run.stderr)")
            outputs.append(try Gnorm.read(output, "/offset"))
        }
        for output in outputs.dropFirst() { #expect(output.map(\.bitPattern) == outputs[0].map(\.bitPattern)) }
    }

    @Test func dtypeAndCompressionOptionsShapeTheStoredDataset() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let reference = try Gnorm.read(expected, "/seed/y")
        let variants: [([String], ElementType, DatasetCreation, Double)] = [
            (["--dtype", "f16"], .float16, DatasetCreation(), 2e-3),
            (["--dtype", "f64"], .float64, DatasetCreation(), 1e-10),
            (
                ["--compression", "gzip=9"], .float32,
                DatasetCreation(chunkShape: [1, 10, 3, 3], filters: [.shuffle, .deflate(level: 9)]), 3e-6
            ),
        ]
        for (index, (options, type, creation, tolerance)) in variants.enumerated() {
            let output = folder + "/v\(index).h5"
            let run = try Gnorm.run(["apply", "-q", "-g", "2", "-d", "/seed"] + options + [cases, output])
            #expect(run.status == 0, "\(run.stderr)")
            let dataset = try File(openingForReading: output).openDataset("/seed")
            #expect(dataset.elementType == type)
            #expect(dataset.creation == creation)
            let y = try dataset.readAll(as: Double.self)
            #expect(elementwise(y, reference) { abs($0 - $1) <= tolerance }, "\(options)")
        }
        let output = folder + "/none.h5"
        #expect(
            try Gnorm.run(["apply", "-q", "-d", "/chunked", "-g", "4", "--compression", "none", cases, output]).status
                == 0)
        #expect(
            try File(openingForReading: output).openDataset("/chunked").creation
                == DatasetCreation(chunkShape: [1, 16, 8, 8], filters: []))
        // Integers default to float32.
        #expect(try Gnorm.run(["apply", "-q", "-d", "/i16", "-g", "4", cases, folder + "/i.h5"]).status == 0)
        #expect(try File(openingForReading: folder + "/i.h5").openDataset("/i16").elementType == .float32)
    }

    @Test func standardInputAndOutputCarryWholeFiles() throws {
        let input = try Data(contentsOf: URL(fileURLWithPath: cases))
        let run = try Gnorm.run(["apply", "-q", "-g", "2", "-d", "/seed", "-", "-"], stdin: input)
        #expect(run.status == 0, "\(run.stderr)")
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let output = folder + "/piped.h5"
        try run.stdoutBytes.write(to: URL(fileURLWithPath: output))
        let y = try Gnorm.read(output, "/seed")
        #expect(elementwise(y, try Gnorm.read(expected, "/seed/y")) { abs($0 - $1) <= 3e-6 })
        #expect(try File(openingForReading: output).attribute("source", on: "/gnorm/seed") == .string("<stdin>"))

        let stats = try Gnorm.run(["stats", "-g", "2", "-d", "/seed", "-"], stdin: input)
        #expect(stats.status == 0)
        #expect(stats.stdout.hasPrefix("dataset,sample,group,mean,var\n/seed,0,0,"))
    }

    @Test func inPlaceRewritesInputAtomically() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let copy = folder + "/data.h5"
        try FileManager.default.copyItem(atPath: cases, toPath: copy)
        let run = try Gnorm.run(["apply", "-q", "--in-place", "-g", "2", "-d", "/seed", copy])
        #expect(run.status == 0, "\(run.stderr)")
        let y = try Gnorm.read(copy, "/seed")
        #expect(elementwise(y, try Gnorm.read(expected, "/seed/y")) { abs($0 - $1) <= 3e-6 })
        #expect(try Gnorm.listing(folder) == ["data.h5"])
        // Several INPUTs are rewritten in place only when every one can be read: none is touched here.
        let before = try Data(contentsOf: URL(fileURLWithPath: copy))
        #expect(try Gnorm.run(["apply", "--in-place", copy, folder + "/x.h5"]).status == 66)
        #expect(try Data(contentsOf: URL(fileURLWithPath: copy)) == before)
    }

    @Test func reportsMatchTheReferenceStatisticsInEveryFormat() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let means = try Gnorm.read(expected, "/seed/mean")
        let variances = try Gnorm.read(expected, "/seed/var")
        func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-12 * max(1, abs(b)) }

        let csv = try Gnorm.run(["stats", "-g", "2", "-d", "/seed", "--format", "csv", cases])
        let rows = csv.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",") }
        #expect(rows.count == 4)
        for (index, row) in rows.enumerated() {
            #expect(row[0] == "/seed" && Int(row[1]) == index / 2 && Int(row[2]) == index % 2)
            #expect(close(Double(row[3])!, means[index]) && close(Double(row[4])!, variances[index]))
        }

        let ndjson = try Gnorm.run(["stats", "-g", "2", "-d", "/seed", "--format", "ndjson", cases])
        let objects = try ndjson.stdout.split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        #expect(objects.count == 4)
        #expect(close(objects[3]["var"] as! Double, variances[3]))
        #expect(objects[2]["sample"] as? Int == 1 && objects[2]["group"] as? Int == 0)

        let json = try Gnorm.run(["stats", "-g", "2", "-d", "/seed", "--format", "json", cases])
        let document = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
        let dataset = (document["datasets"] as! [[String: Any]])[0]
        #expect(dataset["shape"] as! [Int] == [2, 10, 3, 3])
        #expect(
            dataset["count"] as? Int == 45 && dataset["groups"] as? Int == 2 && dataset["dtype"] as? String == "float32"
        )
        #expect(close((dataset["mean"] as! [[Double]])[1][0], means[2]))

        let table = try Gnorm.run(["stats", "-g", "2", "-d", "/seed", "--format", "table", cases])
        let lines = table.stdout.split(separator: "\n")
        #expect(lines[0].split(separator: " ") == ["dataset", "sample", "group", "mean", "var"])
        #expect(lines.count == 5 && Set(lines.map(\.count)).count == 1)

        // apply --report writes the same rows, by extension.
        for name in ["r.csv", "r.json", "r.ndjson"] {
            let run = try Gnorm.run([
                "apply", "-q", "-g", "2", "-d", "/seed", "--report", folder + "/" + name, cases,
                folder + "/o-" + name + ".h5",
            ])
            #expect(run.status == 0, "\(run.stderr)")
        }
        #expect(try String(contentsOfFile: folder + "/r.csv", encoding: .utf8) == csv.stdout)
        #expect(try String(contentsOfFile: folder + "/r.ndjson", encoding: .utf8) == ndjson.stdout)
        #expect(try String(contentsOfFile: folder + "/r.json", encoding: .utf8) == json.stdout)
        let dash = try Gnorm.run(["apply", "-q", "-g", "2", "-d", "/seed", "--report", "-", cases, folder + "/dash.h5"])
        #expect(dash.stdout == csv.stdout)

        let batch = try Gnorm.run(["stats", "--mode", "batch", "-d", "/batch", "--format", "csv", cases])
        let batchMeans = try Gnorm.read(expected, "/batch/mean")
        let batchRows = batch.stdout.split(separator: "\n")
        #expect(batchRows[0] == "dataset,channel,mean,var" && batchRows.count == 7)
        #expect(close(Double(batchRows[6].split(separator: ",")[2])!, batchMeans[5]))
    }

    @Test func lsShowsShapesTypesLayoutAndSelection() throws {
        let table = try Gnorm.run(["ls", Gnorm.fixture("demo.h5")])
        #expect(table.status == 0)
        #expect(table.stdout.contains("/x      (8, 64, 32, 32)  float32  (1, 64, 32, 32)  shuffle,gzip=6  yes"))
        let label = table.stdout.split(separator: "\n").first { $0.hasPrefix("/label") }?.split(separator: " ")
        #expect(label == ["/label", "(8,)", "int64", "contiguous", "-", "-", "-"])
        let json = try Gnorm.run(["ls", "--format", "json", cases])
        let document = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
        let objects = document["objects"] as! [[String: Any]]
        let chunked = try #require(objects.first { $0["path"] as? String == "/chunked" })
        #expect(chunked["chunks"] as! [Int] == [1, 16, 8, 8] && chunked["selected"] as? Bool == true)
        #expect(objects.first { $0["path"] as? String == "/rank2" }?["selected"] as? Bool == false)
    }

    @Test func helpShowsAnExamplePerCommand() throws {
        let root = try Gnorm.run(["--help"])
        #expect(
            root.status == 0 && root.stdout.contains("SUBCOMMANDS:")
                && root.stdout.contains("gnorm apply --groups 32 in.h5 out.h5"))
        for (command, example) in [
            ("apply", "gnorm apply --groups 32 in.h5 out.h5"), ("stats", "gnorm stats in.h5"),
            ("ls", "gnorm ls in.h5"),
        ] {
            let help = try Gnorm.run([command, "--help"])
            #expect(help.status == 0)
            #expect(help.stdout.contains(example), "\(command)")
        }
        let apply = try Gnorm.run(["apply", "--help"]).stdout
        for option in [
            "--groups", "--group-size", "--mode", "--eps", "--layout", "--threads", "--weight", "--bias",
            "--mean", "--var", "--dtype", "--compression", "--report", "--force", "--in-place",
            "--quiet", "--progress", "--no-progress",
        ] {
            #expect(apply.contains(option), "\(option)")
        }
        #expect(try Gnorm.run(["--version"]).stdout == "0.1.0\n")
    }
}

extension CommandTests {
    /// Help is part of the interface: each command's help, verbatim (Tests/gnormTests/Help/*.txt,
    /// the target's resources; after an intended change `make manual` regenerates them).
    @Test(arguments: ["", "apply", "invert", "stats", "ls"])
    func helpTextIsExactlyTheDocumentedOne(_ command: String) throws {
        let run = try Gnorm.run(command.isEmpty ? ["--help"] : [command, "--help"])
        #expect(run.status == 0)
        let name = command.isEmpty ? "gnorm" : command
        let snapshot = try #require(Bundle.module.url(forResource: name, withExtension: "txt", subdirectory: "Help"))
        let expected = try String(contentsOf: snapshot, encoding: .utf8)
        #expect(!expected.isEmpty && run.stdout == expected)
    }
}

extension CommandTests {
    /// Large contiguous datasets, read from a mapping of INPUT (a user block puts their values
    /// off page boundaries): OUTPUT matches the float64 NumPy reference, and is bitwise what
    /// the read through HDF5 gives (a memory limit that streams each sample in pieces).
    @Test func mappedInputMatchesTheReferenceAndTheReadThroughHDF5() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let made = try Python.run("mapped_cases.py", ["make", folder])
        try #require(made.status == 0, "\(made.output)")
        let input = folder + "/in.h5"
        let mapped = try Gnorm.run(["apply", "-q", "-g", "4", input, folder + "/mapped.h5"])
        #expect(mapped.status == 0, "\(mapped.stderr)")
        let checked = try Python.run("mapped_cases.py", ["check", folder, folder + "/mapped.h5"])
        #expect(checked.status == 0 && checked.output == "ok\n", "\(checked.output)")
        let pieces = try Gnorm.run(["apply", "-q", "-g", "4", "--memory-limit", "2", input, folder + "/pieces.h5"])
        #expect(pieces.status == 0, "\(pieces.stderr)")
        for name in ["/f32", "/i16"] {
            let a = try Gnorm.read(folder + "/mapped.h5", name).map(\.bitPattern)
            let b = try Gnorm.read(folder + "/pieces.h5", name).map(\.bitPattern)
            // The first difference only: describing two arrays of 2 M values would take minutes.
            let difference = a.count == b.count ? a.indices.first { a[$0] != b[$0] } : -1
            #expect(difference == nil, "\(name) differs at \(difference ?? 0)")
        }
        let stats = try Gnorm.run(["stats", "-g", "4", "--format", "csv", input])
        let throughHDF5 = try Gnorm.run(["stats", "-g", "4", "--format", "csv", "--memory-limit", "2", input])
        #expect(stats.status == 0 && stats.stdout == throughHDF5.stdout, "\(stats.stderr)")
    }
}
