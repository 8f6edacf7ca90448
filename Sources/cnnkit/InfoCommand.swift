import ArgumentParser
import CNNKit
import CNNKitImageIO
import Foundation

/// `cnnkit info`: backends, threads, convolution algorithms, CPU features.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show the registered backends, threads, convolution algorithms and CPU features.")

    @OptionGroup var common: CommonOptions

    /// What each known backend's convolution does; a backend not listed here is shown as "not reported".
    static let convolutionAlgorithms: [String: String] = [
        "reference": "direct (plain loops from the definition, Double accumulation; single-threaded)",
    ]

    func run() throws {
        try runReportingErrors {
            _ = try common.prepare()
            let registry = BackendRegistry.shared
            print("Backends, in dispatch order (--backend auto takes the first that supports a problem):")
            for (index, name) in registry.names.enumerated() {
                guard let backend = registry.backend(named: name) else { continue }
                print("  \(index + 1). \(name)")
                let settings = Self.settings(of: backend)
                if let known = Self.convolutionAlgorithms[name] {
                    print("     convolution algorithms: \(known)")
                } else if let configurable = backend as? any ConfigurableBackend {
                    print("     convolution algorithms: \(configurable.convolutionAlgorithms.joined(separator: ", ")) (auto picks per problem)")
                    if !configurable.instructionSets.isEmpty {
                        print("     instruction sets on this CPU: \(configurable.instructionSets.joined(separator: ", "))")
                    }
                } else if settings.isEmpty {
                    print("     convolution algorithms: not reported by this backend")
                }
                for setting in settings { print("     \(setting)") }
            }
            if registry.backend(named: "c") == nil {
                print("  (the C backend \"c\" is not registered in this build; --backend c reports an error)")
            }
            let cores = ProcessInfo.processInfo.activeProcessorCount
            let requested = ProcessInfo.processInfo.environment["CNNKIT_NUM_THREADS"]
            print("Threads: \(cores) logical cores; CNNKIT_NUM_THREADS = \(requested ?? "unset (multi-threaded backends use every core)")")
            let cpu = Self.cpuDescription()
            print("CPU: \(cpu.model)")
            print("CPU features seen: \(cpu.features)")
            print("C backend microkernels: \(CBackend().isa) (best this CPU supports: \(CBackend.detectedInstructionSet); CNNKIT_C_ISA caps it)")
            print("OpenBLAS kernels: \(CBackend.blasCoreName) (used only by the im2col_gemm / gemm1x1 algorithms, which auto picks on CPUs without AVX2)")
            if let advice = CBackend.blasAdvice { print("  note: \(advice)") }
            print("libpng: \(PNGCodec.libraryVersion)")
            print("JPEG: libjpeg-turbo through its TurboJPEG API (accurate integer IDCT; EXIF orientation applied on read)")
        }
    }

    /// The configuration a backend value holds (e.g. the C backend's `threads` and `algorithm`), read by reflection
    /// so that `info` needs no compile-time knowledge of each backend; an enum setting lists its possible values.
    static func settings(of backend: any Backend) -> [String] {
        Mirror(reflecting: backend).children.compactMap { child in
            // isaLevel is the C enum behind CBackend.isa, printed readably on its own line.
            guard let label = child.label, label != "name", label != "isaLevel" else { return nil }
            var text = "\(label): \(rawText(child.value))"
            if let type = type(of: child.value) as? any CaseIterable.Type {
                text += " (one of \(caseNames(type).joined(separator: ", ")))"
            }
            return text
        }
    }

    private static func caseNames<T: CaseIterable>(_ type: T.Type) -> [String] { T.allCases.map { rawText($0) } }

    private static func rawText(_ value: Any) -> String {
        if let raw = value as? any RawRepresentable { return "\(raw.rawValue)" }
        return "\(value)"
    }

    /// Model name and the SIMD flags that matter to kernels, from /proc/cpuinfo (Linux).
    static func cpuDescription() -> (model: String, features: String) {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else {
            return ("unknown (no /proc/cpuinfo)", "unknown")
        }
        func field(_ name: String) -> String? {
            for line in text.split(separator: "\n") where line.hasPrefix(name) {
                if let colon = line.firstIndex(of: ":") {
                    return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
            }
            return nil
        }
        let flags = Set((field("flags") ?? "").split(separator: " ").map(String.init))
        let interesting = ["sse2", "sse4_1", "sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "amx_tile"]
        let present = interesting.filter(flags.contains)
        let absent = interesting.filter { !flags.contains($0) && ($0 == "avx2" || $0 == "fma" || $0 == "avx512f") }
        let features = present.joined(separator: " ") + (absent.isEmpty ? "" : "; not present: " + absent.joined(separator: " "))
        return (field("model name") ?? "unknown", features.isEmpty ? "none of the SIMD flags CNNKit looks for" : features)
    }
}
