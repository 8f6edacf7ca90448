import CNNKit
import Testing

// Direct runs of one backend instance on a validated problem (prepare, then run), for tests that compare
// backends element by element. A throw is recorded as a test issue and leaves the output as it was.
extension Backend {
    public func supports(_ problem: ConvolutionProblem) -> Bool { (try? prepare(problem, constants: .none)) != nil }
    public func supports(_ problem: ResizeProblem) -> Bool { (try? prepare(problem)) != nil }
    public func supports(_ problem: ConvTransposeProblem) -> Bool { (try? prepare(problem)) != nil }
    public func supports(_ problem: Col2ImProblem) -> Bool { (try? prepare(problem)) != nil }

    public func convolution(_ problem: ConvolutionProblem, input: Tensor, weight: Tensor, bias: Tensor?, output: inout Tensor,
                     packed: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) {
        record(sourceLocation) {
            if packed {
                try prepare(problem, constants: ConvolutionConstants(weight: weight, bias: bias))
                    .run(input: input, weight: nil, bias: nil, output: &output)
            } else {
                try prepare(problem, constants: .none).run(input: input, weight: weight, bias: bias, output: &output)
            }
        }
    }
    public func convTranspose(_ problem: ConvTransposeProblem, input: Tensor, weight: Tensor, bias: Tensor?, output: inout Tensor,
                       sourceLocation: SourceLocation = #_sourceLocation) {
        record(sourceLocation) { try prepare(problem).run(input: input, weight: weight, bias: bias, output: &output) }
    }
    public func col2im(_ problem: Col2ImProblem, input: Tensor, output: inout Tensor, sourceLocation: SourceLocation = #_sourceLocation) {
        record(sourceLocation) { try prepare(problem).run(input: input, output: &output) }
    }
    public func pooling(_ problem: PoolingProblem, input: Tensor, output: inout Tensor, indices: inout IndexTensor?,
                 sourceLocation: SourceLocation = #_sourceLocation) {
        record(sourceLocation) { try prepare(problem).run(input: input, output: &output, indices: &indices) }
    }
    public func resize(_ problem: ResizeProblem, input: Tensor, output: inout Tensor, sourceLocation: SourceLocation = #_sourceLocation) {
        record(sourceLocation) { try prepare(problem).run(input: input, output: &output) }
    }
    public func pixelShuffle(_ problem: PixelShuffleProblem, input: Tensor, output: inout Tensor, sourceLocation: SourceLocation = #_sourceLocation) {
        record(sourceLocation) { try prepare(problem).run(input: input, output: &output) }
    }
    public func maxUnpool(_ problem: MaxUnpoolProblem, input: Tensor, indices: IndexTensor, output: inout Tensor,
                   sourceLocation: SourceLocation = #_sourceLocation) {
        record(sourceLocation) { try prepare(problem).run(input: input, indices: indices, output: &output) }
    }

    private func record(_ location: SourceLocation, _ body: () throws -> Void) {
        do { try body() } catch { Issue.record("\(name): \(error)", sourceLocation: location) }
    }
}

/// Every variant of every registered backend but the reference, built for a thread count: a backend that adopts
/// ConfigurableBackend contributes each of its convolution algorithms (with `auto`) × instruction sets; any other
/// backend contributes itself. A newly registered backend is therefore cross-checked with no new test code.
public struct BackendVariant: CustomStringConvertible, Sendable {
    public let description: String
    public let make: @Sendable (Int) -> any Backend

    public static func all(convolution: Bool, registry: BackendRegistry = .shared) -> [BackendVariant] {
        var variants: [BackendVariant] = []
        for name in registry.names where name != "reference" {
            guard let backend = registry.backend(named: name) else { continue }
            guard let configurable = backend as? any ConfigurableBackend else {
                variants.append(BackendVariant(description: name) { _ in backend })
                continue
            }
            let algorithms: [String?] = convolution ? [nil] + configurable.convolutionAlgorithms : [nil]
            let isas: [String?] = configurable.instructionSets.isEmpty ? [nil] : configurable.instructionSets
            for algorithm in algorithms {
                for isa in isas {
                    let label = [name, algorithm ?? "auto", isa].compactMap { $0 }.joined(separator: "/")
                    variants.append(BackendVariant(description: label) { threads in
                        try! configurable.configured(threads: threads, convolutionAlgorithm: algorithm, isa: isa)
                    })
                }
            }
        }
        return variants
    }
}
