import Testing

@testable import GroupNormKernel

/// Float16Conversion against Swift's own `Float16` conversions (compiler-rt's
/// `__truncsfhf2`, `__truncdfhf2`, `__extendhfsf2`, `__extendhfdf2` on baseline
/// x86-64: scalar C code, independent of the SIMD bit manipulation under test) and
/// against expected values written out by hand.
@Suite struct Float16ConversionTests {
    // MARK: Widening

    @Test func widenToFloatIsExactForEveryHalf() {
        let halves = (0...UInt16.max).map { $0 }
        let widened = Self.widen(halves, to: Float.self)
        let expected = halves.map { Float(Float16(bitPattern: $0)) }
        #expect(Self.mismatches(halves, widened.map(\.bitPattern), expected.map(\.bitPattern)) == [])
        // Spot checks written out: the smallest subnormal, the largest normal, -0, -Inf, a quiet NaN.
        #expect(widened[0x0001] == 0x1p-24)
        #expect(widened[0x7BFF] == 65504)
        #expect(widened[0x8000].bitPattern == 0x8000_0000)
        #expect(widened[0xFC00] == -.infinity)
        #expect(widened[0xFE01].bitPattern == 0xFFC0_2000)
    }

    @Test func widenToDoubleIsExactForEveryHalf() {
        let halves = (0...UInt16.max).map { $0 }
        let widened = Self.widen(halves, to: Double.self)
        let expected = halves.map { Double(Float16(bitPattern: $0)) }
        #expect(Self.mismatches(halves, widened.map(\.bitPattern), expected.map(\.bitPattern)) == [])
        #expect(widened[0x0001] == 0x1p-24)
        #expect(widened[0x03FF] == 0x1p-14 - 0x1p-24)
        #expect(widened[0x7E00].bitPattern == 0x7FF8_0000_0000_0000)
    }

    // MARK: Narrowing Float

    @Test func narrowFloatKeepsEveryHalf() {
        let halves = (0...UInt16.max).map { $0 }
        let values = halves.map { Float(Float16(bitPattern: $0)) }
        Self.expectNarrowingMatchesSwift(values)
        // Every half that is not a NaN comes back as itself.
        let finite = halves.filter { !Float16(bitPattern: $0).isNaN }
        #expect(Self.narrow(finite.map { Float(Float16(bitPattern: $0)) }) == finite)
    }

    @Test func narrowFloatRoundsMidpointsToEven() {
        var values: [Float] = []
        var expected: [UInt16] = []
        for (midpoint, below, above) in Self.midpoints() {
            // The midpoint itself goes to the even neighbour; one Float ulp either side decides.
            let m = Float(midpoint)  // exact: a midpoint has 12 significant bits
            values += [m, m.nextDown, m.nextUp, -m, -m.nextDown, -m.nextUp]
            let even = below & 1 == 0 ? below : above
            expected += [even, below, above, even | 0x8000, below | 0x8000, above | 0x8000]
        }
        Self.expectNarrowingMatchesSwift(values)
        #expect(Self.mismatches(values, Self.narrow(values), expected) == [])
    }

    @Test func narrowFloatRoundsJustBelowPowersOfTwoUpAfterSubnormals() {
        // libhdf5 1.10.8 loses the carry into the exponent once it has converted a
        // subnormal earlier in the same buffer: subnormals first, then values that round up
        // to a power of two, in every lane position.
        let subnormals: [Float] = [0x1p-24, 3e-6, -5.9e-8, 6.0e-5, 1e-7]
        let carries: [(Float, UInt16)] = [
            (0.99980, 0x3C00), (1.99998, 0x4000), (3.9997, 0x4400), (-0.99980, 0xBC00), (7.999, 0x4800),
            (0x1p-14 - 0x1p-26, 0x0400),  // the largest subnormal rounds up into the smallest normal
            (65519.99, 0x7BFF), (65520, 0x7C00), (-65520, 0xFC00), (65504, 0x7BFF),
        ]
        for shift in 0..<8 {
            let padding = [Float](repeating: 0x1p-20, count: shift)
            let values = subnormals + padding + carries.map(\.0)
            let expected = subnormals.map { Float16($0).bitPattern } + padding.map { _ in 0x0010 } + carries.map(\.1)
            #expect(Self.mismatches(values, Self.narrow(values), expected) == [])
        }
        Self.expectNarrowingMatchesSwift(subnormals + carries.map(\.0))
    }

    @Test func narrowFloatSpecialValues() {
        let cases: [(Float, UInt16)] = [
            (0, 0x0000), (-0.0, 0x8000), (.infinity, 0x7C00), (-.infinity, 0xFC00),
            (.greatestFiniteMagnitude, 0x7C00), (1e5, 0x7C00), (-1e5, 0xFC00),
            (.leastNonzeroMagnitude, 0x0000), (-.leastNonzeroMagnitude, 0x8000), (.leastNormalMagnitude, 0x0000),
            (0x1p-25, 0x0000), (Float(0x1p-25).nextUp, 0x0001), (0x1.8p-24, 0x0002), (0x1p-14, 0x0400),
            (.nan, 0x7E00), (-.nan, 0xFE00),
            (Float(bitPattern: 0x7F80_0001), 0x7E00),  // signaling NaN: quiet, payload's top bits (none)
            (Float(bitPattern: 0x7FA0_0000), 0x7F00),  // signaling NaN with a high payload bit
            (Float(bitPattern: 0xFFFF_FFFF), 0xFFFF),
        ]
        #expect(Self.mismatches(cases.map(\.0), Self.narrow(cases.map(\.0)), cases.map(\.1)) == [])
        Self.expectNarrowingMatchesSwift(cases.map(\.0))
    }

    @Test func narrowFloatMatchesSwiftOnRandomFloats() {
        var random = SplitMix(state: 16)
        var values: [Float] = []
        // Any bit pattern: every exponent, subnormal Floats, NaNs.
        for _ in 0..<250_000 { values.append(Float(bitPattern: UInt32(truncatingIfNeeded: random.next()))) }
        // Exponents around a half's range, from below its subnormals to above 65504.
        for _ in 0..<250_000 {
            let exponent = UInt32(random.next() % 48) + 100
            let bits = exponent << 23 | UInt32(truncatingIfNeeded: random.next()) & 0x807F_FFFF
            values.append(Float(bitPattern: bits))
        }
        // Data-like values at several magnitudes.
        for scale in [1e-7, 1e-5, 1e-2, 1, 1e2, 2e4] as [Double] {
            for _ in 0..<100_000 { values.append(Float(scale * random.normal())) }
        }
        Self.expectNarrowingMatchesSwift(values)
    }

    // MARK: Narrowing Double

    @Test func narrowDoubleKeepsEveryHalfAndRoundsMidpointsToEven() {
        let halves = (0...UInt16.max).map { $0 }
        Self.expectNarrowingMatchesSwift(halves.map { Double(Float16(bitPattern: $0)) })
        var values: [Double] = []
        var expected: [UInt16] = []
        for (m, below, above) in Self.midpoints() {
            let even = below & 1 == 0 ? below : above
            values += [m, m.nextDown, m.nextUp, -m, -m.nextDown, -m.nextUp]
            expected += [even, below, above, even | 0x8000, below | 0x8000, above | 0x8000]
        }
        Self.expectNarrowingMatchesSwift(values)
        #expect(Self.mismatches(values, Self.narrow(values), expected) == [])
    }

    @Test func narrowDoubleRoundsOnceNotThroughFloat() {
        // Doubles a little off a half-way point whose nearest Float IS the half-way point:
        // rounding through Float would then tie to even, towards the wrong neighbour.
        var values: [Double] = []
        var expected: [UInt16] = []
        var traps = 0
        for (m, below, above) in Self.midpoints() where m < 65520 {
            for offset in [0x1p-30, 0x1p-40, 0x1p-52] {
                let up = m + m * offset
                let down = m - m * offset
                if Double(Float(up)) == m && Double(Float(down)) == m { traps += 1 }
                values += [up, down, -up, -down]
                expected += [above, below, above | 0x8000, below | 0x8000]
            }
        }
        #expect(traps == values.count / 4)
        // 65520 - 2^-20 rounds to 65504, not (through Float's 65520) to Inf.
        values += [65520 - 0x1p-20, 65520 + 0x1p-20]
        expected += [0x7BFF, 0x7C00]
        #expect(Self.mismatches(values, Self.narrow(values), expected) == [])
        Self.expectNarrowingMatchesSwift(values)
    }

    @Test func narrowDoubleSpecialValues() {
        let cases: [(Double, UInt16)] = [
            (0, 0x0000), (-0.0, 0x8000), (.infinity, 0x7C00), (-.infinity, 0xFC00),
            (.greatestFiniteMagnitude, 0x7C00), (1e300, 0x7C00), (-1e10, 0xFC00), (65536, 0x7C00),
            (.leastNonzeroMagnitude, 0x0000), (-.leastNonzeroMagnitude, 0x8000), (1e-300, 0x0000),
            (0x1p-25, 0x0000), (Double(0x1p-25).nextUp, 0x0001), (-Double(0x1p-25).nextUp, 0x8001), (0x1p-26, 0x0000),
            (0x1.8p-24, 0x0002), (65519.99, 0x7BFF), (65520, 0x7C00), (0.99980, 0x3C00), (1.99998, 0x4000),
            (.nan, 0x7E00), (-.nan, 0xFE00),
            (Double(bitPattern: 0x7FF0_0000_0000_0001), 0x7E00),  // signaling, payload in the low word only
            (Double(bitPattern: 0x7FF4_0000_0000_0000), 0x7F00),
            (Double(bitPattern: 0xFFFF_FFFF_FFFF_FFFF), 0xFFFF),
        ]
        #expect(Self.mismatches(cases.map(\.0), Self.narrow(cases.map(\.0)), cases.map(\.1)) == [])
        Self.expectNarrowingMatchesSwift(cases.map(\.0))
    }

    @Test func narrowDoubleMatchesSwiftOnRandomDoubles() {
        var random = SplitMix(state: 64)
        var values: [Double] = []
        for _ in 0..<250_000 { values.append(Double(bitPattern: random.next())) }
        for _ in 0..<250_000 {
            let exponent = random.next() % 48 + 1023 - 27
            let bits = exponent << 52 | random.next() & 0x800F_FFFF_FFFF_FFFF
            values.append(Double(bitPattern: bits))
        }
        for scale in [1e-7, 1e-5, 1e-2, 1, 1e2, 2e4] as [Double] {
            for _ in 0..<100_000 { values.append(scale * random.normal()) }
        }
        Self.expectNarrowingMatchesSwift(values)
    }

    // MARK: Threads

    @Test(arguments: [2, 7])
    func resultsDoNotDependOnThreadCount(_ threads: Int) {
        // Three and a bit blocks, with a tail shorter than the 8 SIMD lanes.
        let count = 3 * Float16Conversion.blockLength + 5
        var random = SplitMix(state: 9)
        let doubles = (0..<count).map { _ in Double(Int32(truncatingIfNeeded: random.next())) * 0x1p-20 }
        let floats = doubles.map { Float($0) }
        let halves = (0..<count).map { _ in UInt16(truncatingIfNeeded: random.next()) }
        #expect(Self.narrow(floats, threadCount: threads) == Self.narrow(floats, threadCount: 1))
        #expect(Self.narrow(doubles, threadCount: threads) == Self.narrow(doubles, threadCount: 1))
        #expect(
            Self.widen(halves, to: Float.self, threadCount: threads).map(\.bitPattern)
                == Self.widen(halves, to: Float.self, threadCount: 1).map(\.bitPattern))
        #expect(
            Self.widen(halves, to: Double.self, threadCount: threads).map(\.bitPattern)
                == Self.widen(halves, to: Double.self, threadCount: 1).map(\.bitPattern))
        // And the tail agrees with Swift like the rest.
        #expect(
            Array(Self.narrow(floats, threadCount: threads).suffix(13))
                == floats.suffix(13).map { Float16($0).bitPattern })
    }

    // MARK: Helpers

    /// Every pair of adjacent non-negative halves (the last one Inf, for 65520) and the
    /// exact midpoint between them.
    static func midpoints() -> [(midpoint: Double, below: UInt16, above: UInt16)] {
        (UInt16(0)..<0x7C00).map { bits in
            let midpoint =
                (Double(Float16(bitPattern: bits)) + (bits == 0x7BFF ? 65536 : Double(Float16(bitPattern: bits + 1))))
                / 2
            return (midpoint, bits, bits + 1)
        }
    }

    static func widen<Element: KernelElement>(_ halves: [UInt16], to _: Element.Type, threadCount: Int = 2) -> [Element]
    {
        var result = [Element](repeating: .nan, count: halves.count)
        halves.withUnsafeBufferPointer { source in
            result.withUnsafeMutableBufferPointer {
                Float16Conversion.widen(source, into: $0, threadCount: threadCount)
            }
        }
        return result
    }

    static func narrow<Element: KernelElement>(_ values: [Element], threadCount: Int = 2) -> [UInt16] {
        var result = [UInt16](repeating: 0xDEAD, count: values.count)
        values.withUnsafeBufferPointer { source in
            result.withUnsafeMutableBufferPointer {
                Float16Conversion.narrow(source, into: $0, threadCount: threadCount)
            }
        }
        return result
    }

    static func expectNarrowingMatchesSwift(_ values: [Float], sourceLocation: SourceLocation = #_sourceLocation) {
        let expected = values.map { Float16($0).bitPattern }
        #expect(mismatches(values, narrow(values), expected) == [], sourceLocation: sourceLocation)
    }

    static func expectNarrowingMatchesSwift(_ values: [Double], sourceLocation: SourceLocation = #_sourceLocation) {
        let expected = values.map { Float16($0).bitPattern }
        #expect(mismatches(values, narrow(values), expected) == [], sourceLocation: sourceLocation)
    }

    /// The first few differences, readable: "input: got 0x…, expected 0x…".
    static func mismatches<Input, Bits: BinaryInteger>(_ inputs: [Input], _ got: [Bits], _ expected: [Bits]) -> [String]
    {
        precondition(inputs.count == got.count && got.count == expected.count)
        var found: [String] = []
        for i in inputs.indices where got[i] != expected[i] {
            found.append(
                "\(inputs[i]): got 0x\(String(got[i], radix: 16)), expected 0x\(String(expected[i], radix: 16))")
            if found.count == 10 { break }
        }
        return found
    }
}
