import CNNKitCore
internal import CKernels

extension CBackend: ConfigurableBackend {
    /// The algorithm list of `CKernels/conv/ck_conv_algorithms.def`.
    public var convolutionAlgorithms: [String] {
        (0..<ck_conv_algorithm_count()).map { String(cString: ck_conv_algorithm_name($0)) }
    }

    /// The instruction sets this CPU can run, worst to best.
    public var instructionSets: [String] { Array(Self.allInstructionSets.prefix(Int(ck_isa_detect()) + 1)) }

    public func configured(threads: Int?, convolutionAlgorithm: String?, isa: String?) throws -> any Backend {
        if let threads, !(1...Self.maximumThreads).contains(threads) {
            throw CNNKitError.invalidArgument("threads", value: "\(threads)", expected: "1 <= threads <= \(Self.maximumThreads)")
        }
        var chosen = algorithm
        if let name = convolutionAlgorithm {
            guard let value = ConvolutionAlgorithm(rawValue: name), value != .automatic || name == "auto" else {
                throw CNNKitError.invalidArgument(
                    "algorithm", value: name, expected: "one of \(convolutionAlgorithms.joined(separator: ", ")) or auto")
            }
            chosen = value
        }
        if let isa, !instructionSets.contains(isa) {
            throw CNNKitError.invalidArgument(
                "isa", value: isa, expected: "one of \(instructionSets.joined(separator: ", ")) (what this CPU supports)")
        }
        return CBackend(threads: threads ?? self.threads, algorithm: chosen, isa: isa ?? self.isa)
    }
}
