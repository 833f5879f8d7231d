import Foundation
import GroupNormKernel

/// `--cpu`: which build of the kernel's innermost loops runs (`InstructionSet`). Every
/// choice computes the same bits; `baseline` is there to show it, and for CPUs that
/// misreport their features.
public enum CPUChoice: String, CaseIterable, Sendable {
    /// The fastest this CPU runs: AVX2 where the Linux kernel lists it, else baseline.
    case auto
    /// x86-64 SSE2, on every CPU.
    case baseline
    /// AVX2; refused where the CPU lacks it.
    case avx2

    /// Whether this CPU can run the choice.
    public var isAvailable: Bool { self != .avx2 || Self.cpuHasAVX2 }

    var instructionSet: InstructionSet {
        switch self {
        case .auto: Self.cpuHasAVX2 ? .avx2 : .baseline
        case .baseline: .baseline
        case .avx2: .avx2
        }
    }

    /// From the first `flags` line of /proc/cpuinfo, which Linux fills only with features
    /// it also enables (AVX2 needs the kernel to save the YMM registers). Read once.
    static let cpuHasAVX2: Bool = {
        #if arch(x86_64)
            guard let file = fopen("/proc/cpuinfo", "r") else { return false }
            defer { fclose(file) }
            var line: UnsafeMutablePointer<CChar>? = nil
            var capacity = 0
            defer { free(line) }
            while getline(&line, &capacity, file) > 0, let line {
                let text = String(cString: line)
                guard text.hasPrefix("flags") else { continue }
                return text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).contains("avx2")
            }
            return false
        #else
            return false
        #endif
    }()
}
