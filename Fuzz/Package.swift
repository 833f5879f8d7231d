// swift-tools-version:6.0
// libFuzzer targets (`make fuzz`): built with -sanitize=fuzzer,address; libFuzzer provides main.
import PackageDescription

let fuzzer: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]
let pipeline = Target.Dependency.product(name: "GnormPipeline", package: "main")

let package = Package(
    name: "gnorm-fuzz",
    dependencies: [.package(path: "..")],
    targets: [
        .target(name: "FuzzDriver"),
        .executableTarget(name: "FuzzNumpy", dependencies: ["FuzzDriver", pipeline], swiftSettings: fuzzer),
        .executableTarget(name: "FuzzSpec", dependencies: ["FuzzDriver", pipeline], swiftSettings: fuzzer),
        .executableTarget(name: "FuzzStats", dependencies: ["FuzzDriver", pipeline], swiftSettings: fuzzer),
    ],
    swiftLanguageModes: [.v6]
)
