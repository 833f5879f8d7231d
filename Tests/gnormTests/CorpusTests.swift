import Foundation
import Testing

/// Files made by the tools users have (netCDF4-python, xarray with both engines, ncgen,
/// h5py with dimension scales, references, links, committed types, user block, VDS,
/// filter plugins): after `apply`, `apply --in-place`, `apply - -` and a changed type,
/// OUTPUT must be INPUT with only the normalized values (and gnorm's additions)
/// changed. `Fixtures/check_output.py` checks each OUTPUT independently: h5py, NumPy's
/// float64 reference, h5diff, ncdump and xarray. Fixtures/formats holds files of the tools
/// whose formats give attributes meaning (ncgen's vector missing_value and valid_range,
/// netCDF quantization, NCO packing, AnnData, MATLAB v7.3, PyTables): there each OUTPUT is
/// also read back by the tool that wrote INPUT (`Fixtures/check_readers.py`).
@Suite struct CorpusTests {
    struct Entry {
        let name: String
        let arguments: [String]
        let netCDF: Bool
    }

    static func entries(_ corpus: String = "corpus") throws -> [Entry] {
        let manifest =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: Gnorm.fixture(corpus + "/manifest.json"))))
            as? [String: Any]
        let files = try #require(manifest?["files"] as? [[String: Any]])
        return try files.map { file in
            let datasets = try #require(file["datasets"] as? [[String: Any]]).compactMap { $0["path"] as? String }
            let groups = try #require(file["groups"] as? Int)
            let layout = try #require(file["layout"] as? String)
            let mode = try #require(file["mode"] as? String)
            var arguments = datasets.flatMap { ["-d", $0] } + ["--layout", layout, "--mode", mode]
            if mode == "group" { arguments += ["-g", String(groups)] }
            return Entry(
                name: try #require(file["name"] as? String), arguments: arguments,
                netCDF: file["netcdf"] as? Bool ?? false)
        }
    }

    @Test(arguments: [("corpus", 12), ("formats", 6)])
    func outputIsInputWithOnlyTheNormalizedValuesChanged(_ corpusName: String, _ size: Int) throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let corpus = Gnorm.fixture(corpusName)
        let manifest = corpus + "/manifest.json"
        var runs: [[String: Any]] = []
        let entries = try Self.entries(corpusName)
        #expect(entries.count >= size)
        for entry in entries {
            let input = corpus + "/" + entry.name
            let base = folder + "/" + entry.name
            // As it is; and with another type (a replaced dataset) or, for netCDF, without masking.
            let plain = try Gnorm.run(["apply", "-q"] + entry.arguments + [input, base + ".plain"], in: corpus)
            #expect(plain.status == 0, "\(entry.name): \(plain.stderr)")
            runs.append([
                "input": input, "output": base + ".plain", "entry": entry.name, "manifest": manifest,
                "label": ["plain"],
            ])
            let variant = entry.netCDF ? ["--no-mask"] : ["--dtype", "f64"]
            let changed = try Gnorm.run(
                ["apply", "-q"] + variant + entry.arguments + [input, base + ".variant"], in: corpus)
            #expect(changed.status == 0, "\(entry.name) \(variant): \(changed.stderr)")
            runs.append([
                "input": input, "output": base + ".variant", "entry": entry.name, "arguments": variant,
                "manifest": manifest,
                "label": variant,
            ])
            // In place, on a copy.
            try FileManager.default.copyItem(atPath: input, toPath: base + ".in-place")
            let inPlace = try Gnorm.run(
                ["apply", "-q", "--in-place"] + entry.arguments + [base + ".in-place"], in: corpus)
            #expect(inPlace.status == 0, "\(entry.name) --in-place: \(inPlace.stderr)")
            runs.append([
                "input": input, "output": base + ".in-place", "entry": entry.name, "manifest": manifest,
                "label": ["--in-place"],
            ])
            // Through a pipe: the whole image in memory both ways.
            let piped = try Gnorm.run(
                ["apply", "-q"] + entry.arguments + ["-", "-"],
                stdin: Data(contentsOf: URL(fileURLWithPath: input)), in: corpus)
            #expect(piped.status == 0, "\(entry.name) - -: \(piped.stderr)")
            try piped.stdoutBytes.write(to: URL(fileURLWithPath: base + ".piped"))
            runs.append([
                "input": input, "output": base + ".piped", "entry": entry.name, "manifest": manifest, "label": ["- -"],
            ])
        }
        try JSONSerialization.data(withJSONObject: runs).write(to: URL(fileURLWithPath: folder + "/runs.json"))
        // h5diff reads lzf through Debian's plugin only with liblzf loaded (the plugin is built without it).
        let liblzf = ["x86_64", "aarch64"].map { "/usr/lib/\($0)-linux-gnu/liblzf.so.1" }
            .first { FileManager.default.fileExists(atPath: $0) }
        let checked = try Python.run(
            "check_corpus.py", [folder + "/runs.json"],
            environment: liblzf.map { ["LD_PRELOAD": $0] } ?? [:])
        #expect(checked.status == 0, "\(checked.output)")
        #expect(checked.output.contains("\(runs.count) outputs checked, 0 with problems"), "\(checked.output)")
    }
}

extension CorpusTests {
    /// The format checks can fail: gnorm's passing OUTPUT of Fixtures/formats files with one
    /// planted defect each (statistics at AnnData's root, MATLAB_class kept, a _Quantize attribute
    /// kept, a second missing_value or an out-of-range cell normalized) is caught
    /// (`Fixtures/run_controls.py --formats-only`).
    @Test func formatChecksCatchPlantedDefects() throws {
        let checked = try Python.run("run_controls.py", ["--formats-only", "--gnorm", Gnorm.binary])
        #expect(checked.status == 0, "\(checked.output)")
        #expect(checked.output.hasSuffix("format negative controls PASSED\n"), "\(checked.output)")
        #expect(checked.output.components(separatedBy: "good rc=0, defect rc=1").count == 6, "\(checked.output)")
    }
}

extension CorpusTests {
    /// `stats` leaves fill values out as `apply` does (and counts them with `--no-mask`).
    @Test func statsAgreesWithApplyOnMaskedData() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let input = Gnorm.fixture("corpus/nc4_python.nc")
        let arguments = ["-d", "/precip", "-g", "4"]
        let applied = try Gnorm.run(["apply"] + arguments + [input, folder + "/out.nc"])
        #expect(applied.status == 0, "\(applied.stderr)")
        #expect(applied.stderr.contains("6 fill values masked"), "\(applied.stderr)")
        let means = try Gnorm.read(folder + "/out.nc", "/gnorm/precip/mean")
        let variances = try Gnorm.read(folder + "/out.nc", "/gnorm/precip/var")
        for (flag, shouldAgree) in [([String](), true), (["--no-mask"], false)] {
            let stats = try Gnorm.run(["stats", "--format", "csv"] + flag + arguments + [input])
            #expect(stats.status == 0, "\(stats.stderr)")
            let rows = stats.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",") }
            let printedMeans = rows.compactMap { Double($0[3]) }
            let printedVariances = rows.compactMap { Double($0[4]) }
            #expect(printedMeans.count == means.count)
            #expect((printedMeans == means && printedVariances == variances) == shouldAgree, "\(flag)")
        }
    }
}
