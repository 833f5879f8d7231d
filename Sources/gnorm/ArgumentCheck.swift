import Foundation

/// Checks swift-argument-parser leaves to gnorm. It reads `-x.h5` as the short flags -x -. -h -5
/// and prints the help (because of -h) with status 0, doing nothing: a file whose name begins
/// with '-' is refused instead, as an unknown option with the two ways to name it.
enum ArgumentCheck {
    /// Short names of flags, which combine (`-qf`).
    static let flags: Set<Character> = ["f", "q", "h"]
    /// Short names of options with a value (`-g 4`, `-d /x`): the parser judges what follows.
    static let valued: Set<Character> = ["d", "g"]
    /// Options whose next argument is their value even when it begins with '-', so that a
    /// negative number gets the option's own message ("--eps must be … ≥ 0").
    static let takesAnyValue: Set<String> = [
        "--eps", "-g", "--groups", "--group-size", "--threads", "--memory-limit", "--limit",
    ]

    /// The first argument before `--` that begins with one '-' and is no combination of gnorm's
    /// short options; nil when there is none.
    static func unknownShortOption(in arguments: [String]) -> String? {
        var isValue = false
        for argument in arguments {
            if isValue {
                isValue = false
                continue
            }
            if argument == "--" { return nil }
            if takesAnyValue.contains(argument) {
                isValue = true
                continue
            }
            guard argument.hasPrefix("-"), !argument.hasPrefix("--"), argument.count > 2 else { continue }
            let letters = argument.dropFirst()
            if let first = letters.first, valued.contains(first) { continue }
            if letters.allSatisfy(flags.contains) { continue }
            return argument
        }
        return nil
    }
}

/// An argument that `ArgumentCheck` refused (status 64).
struct UnknownShortOption: Error, CustomStringConvertible {
    let argument: String
    init(_ argument: String) { self.argument = argument }

    var description: String {
        "gnorm: error: unknown option '\(oneLine(argument))'; a file whose name begins with '-' is named "
            + "./\(oneLine(argument)) or given after --"
    }
}

/// `text` on one line: control characters (a newline in a file name) written as escapes, so
/// that an error stays the one line SPEC §5 promises.
func oneLine(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: isControl) else { return text }
    var escaped = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\n": escaped += "\\n"
        case "\t": escaped += "\\t"
        case "\r": escaped += "\\r"
        case _ where isControl(scalar): escaped += "\\x" + hex(scalar.value)
        default: escaped.unicodeScalars.append(scalar)
        }
    }
    return escaped
}

/// `argument` as a POSIX shell reads it back (for the `history` attribute): bare when it holds
/// only characters no shell treats specially, else in single quotes; with control characters, in
/// bash's `$'…'` with escapes, so that the command stays on its one line.
func shellQuoted(_ argument: String) -> String {
    let bare = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_".unicodeScalars)
    if !argument.isEmpty && argument.unicodeScalars.allSatisfy(bare.contains) { return argument }
    guard argument.unicodeScalars.contains(where: isControl) else {
        return "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
    var quoted = "$'"
    for scalar in argument.unicodeScalars {
        switch scalar {
        case "\\": quoted += "\\\\"
        case "'": quoted += "\\'"
        case "\n": quoted += "\\n"
        case "\t": quoted += "\\t"
        case "\r": quoted += "\\r"
        case _ where isControl(scalar): quoted += "\\x" + hex(scalar.value)
        default: quoted.unicodeScalars.append(scalar)
        }
    }
    return quoted + "'"
}

private func isControl(_ scalar: Unicode.Scalar) -> Bool { scalar.value < 0x20 || scalar.value == 0x7F }

private func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return digits.count < 2 ? "0" + digits : digits
}
