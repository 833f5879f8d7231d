import GroupNormKernel
import Testing

/// Integer widening: every value of the narrow types round-trips exactly; wide values
/// equal the correctly rounded parse of their decimal text (an independent rounding).
@Suite struct IntegerConversionTests {
    func widened<Source: FixedWidthInteger>(_ values: [Source], threads: Int) -> [Double] {
        var widened = [Double](repeating: .nan, count: values.count)
        values.withUnsafeBufferPointer { source in
            widened.withUnsafeMutableBufferPointer { IntegerConversion.widen(source, into: $0, threadCount: threads) }
        }
        return widened
    }

    func checkExact<Source: FixedWidthInteger>(_ values: [Source]) {
        let result = widened(values, threads: 2)
        #expect(zip(values, result).allSatisfy { Source(exactly: $1) == $0 }, "\(Source.self)")
    }

    func checkRounded<Source: FixedWidthInteger>(_ values: [Source], threads: Int) {
        let result = widened(values, threads: threads)
        #expect(zip(values, result).allSatisfy { Double(String($0))!.bitPattern == $1.bitPattern }, "\(Source.self)")
    }

    @Test func everyEightAndSixteenBitValueIsExact() {
        checkExact((UInt8.min...UInt8.max).map { $0 })
        checkExact((Int8.min...Int8.max).map { $0 })
        checkExact((UInt16.min...UInt16.max).map { $0 })
        checkExact((Int16.min...Int16.max).map { $0 })
    }

    @Test func wideIntegersRoundToNearestAcrossBlocksAndThreads() {
        var generator = SplitMix(state: 11)
        let random64 = (0..<(2 * IntegerConversion.blockLength + 17)).map { _ in
            generator.next() >> (generator.next() % 64)
        }
        checkRounded(random64, threads: 1)
        checkRounded(random64.map { Int64(bitPattern: $0) }, threads: 3)
        checkExact(random64.map { UInt32(truncatingIfNeeded: $0) })
        checkExact(random64.map { Int32(truncatingIfNeeded: $0) } + [.min, .max, 0, -1])
        checkRounded([Int64.max, .min, 1 << 53 + 1, -(1 << 53) - 1, 0], threads: 2)
    }
}
