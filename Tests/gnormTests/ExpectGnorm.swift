import Testing

/// Runs gnorm with `arguments` and checks its exit status and standard error in one call, as
/// swift-argument-parser's `AssertExecuteCommand` does: SPEC §5's failure is one line
/// `gnorm: error: WHAT (WHERE)`, last, after warnings if any, holding each of `mentions` (a usage error, 64, may be
/// argument-parser's several lines, holding them too); a success prints no error. With `shell`,
/// `arguments` are /bin/sh's (a `ulimit` or `setpriv` in front of gnorm). Returns the run.
@discardableResult
func expectGnorm(
    _ arguments: [String], exits status: Int32, mentions: [String] = [], in folder: String? = nil,
    shell: Bool = false, environment: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation
) throws -> Run {
    let run = try Gnorm.run(arguments, in: folder, shell: shell, environment: environment)
    #expect(run.status == status, "\(arguments): \(run.stderr)", sourceLocation: sourceLocation)
    let lines = run.stderr.split(separator: "\n")
    if status == 0 {
        #expect(!lines.contains { $0.hasPrefix("gnorm: error: ") }, "\(run.stderr)", sourceLocation: sourceLocation)
    } else if status != 64 {
        // Warnings about what was read before the failure may come first.
        #expect(
            lines.last?.hasPrefix("gnorm: error: ") == true
                && lines.dropLast().allSatisfy { $0.hasPrefix("gnorm: warning: ") },
            "not one error line: \(run.stderr)", sourceLocation: sourceLocation)
    }
    for word in mentions {
        #expect(run.stderr.contains(word), "\(run.stderr) lacks \(word)", sourceLocation: sourceLocation)
    }
    return run
}
