import GroupNormKernel
import Platform

/// `--cpu`: which build of the kernel's innermost loops runs (`InstructionSet`). Every
/// choice computes the same bits; `baseline` is there to show it, and for CPUs that
/// misreport their features.
public enum CPUChoice: String, CaseIterable, Sendable {
    /// The fastest this CPU runs: AVX2 where the CPU and the system support it, else baseline.
    case auto
    /// x86-64 SSE2, on every CPU.
    case baseline
    /// AVX2 (with F16C); refused where the CPU lacks either.
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

    /// CPUID and XCR0 (the system saves the YMM registers), asked once by the platform layer.
    static var cpuHasAVX2: Bool { System.cpuHasAVX2 }
}
