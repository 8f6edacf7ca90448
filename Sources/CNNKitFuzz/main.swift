// CNNKitFuzz: random descriptors and tensors, valid and invalid, across every operator and rank (hostile values
// included: extents near Int.max, 2^62 groups, empty batches with huge spatial extents, NaN / inf in float
// attributes), run in-process on every registered backend. Every invalid case must throw a CNNKitError on every
// backend; every valid one must agree with the reference backend under the cross-check rules (CrossCheck.mismatch:
// bit-exact for max / stochastic pooling, nearest resize, pixel shuffle and unpool, 1e-4 abs + rel elsewhere, 1e-3
// for cubic). A crash or a hang is reported with the case number and the replay command, and ends the run.
//
//   CNNKitFuzz [CASES [SEED]] [--only CASE] [--family NAME] [--budget BYTES] [--verbose]
//
// CASES is per backend (default 10000); SEED defaults to 1. Exit status: 0 clean, 1 disagreements, 2 usage,
// 3 hang, the signal's number + 128 on a crash.
import CNNKit
import CNNKitTestSupport
import Foundation

// MARK: Arguments

var positional: [String] = []
var only: Int? = nil
var familyFilter: String? = nil
var budget = 16 << 20
var verbose = false
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--only": only = arguments.next().flatMap { Int($0) }
    case "--family": familyFilter = arguments.next()
    case "--budget": budget = arguments.next().flatMap { Int($0) } ?? budget
    case "--verbose", "-v": verbose = true
    case "--help", "-h":
        print("usage: CNNKitFuzz [CASES [SEED]] [--only CASE] [--family \(Generators.families.joined(separator: "|"))] [--budget BYTES] [--verbose]")
        exit(0)
    default: positional.append(argument)
    }
}
guard positional.count <= 2, let cases = positional.first.map({ Int($0) }) ?? 10_000, let seed = positional.dropFirst().first.map({ UInt64($0) }) ?? 1,
      cases >= 0
else {
    FileHandle.standardError.write(Data("CNNKitFuzz: expected CASES and SEED as non-negative integers, got \(positional)\n".utf8))
    exit(2)
}
if let familyFilter, !Generators.families.contains(familyFilter) {
    FileHandle.standardError.write(Data("CNNKitFuzz: unknown family \(familyFilter); one of \(Generators.families)\n".utf8))
    exit(2)
}

// Outputs, workspaces and the harness's own tensors above the budget throw .outOfMemory (an exercised path), which
// also keeps every case small.
MemoryBudget.limit = budget
CrashReporter.install(seed: seed)

// MARK: Backends

let registry = BackendRegistry.shared
let reference: any Backend = registry.backend(named: "reference") ?? ReferenceBackend()
/// Per registered backend: its default instance, and for convolution the variants of a ConfigurableBackend
/// (every algorithm, default instruction set, 1 or 2 threads), taken in turn by half of the convolution cases.
struct Target {
    let name: String
    let instance: any Backend
    let convolutionVariants: [any Backend]
}
let targets: [Target] = registry.names.compactMap { name in
    guard let backend = registry.backend(named: name) else { return nil }
    var variants: [any Backend] = []
    if let configurable = backend as? any ConfigurableBackend {
        for algorithm in configurable.convolutionAlgorithms {
            for threads in [1, 2] {
                if let variant = try? configurable.configured(threads: threads, convolutionAlgorithm: algorithm, isa: nil) {
                    variants.append(variant)
                }
            }
        }
    }
    return Target(name: name, instance: backend, convolutionVariants: variants)
}

// MARK: Counting

struct Tally {
    var cases = 0
    var compared = 0
    var errors: [CNNKitError.Kind: Int] = [:]
    var disagreements = 0
}
var tallies = [String: Tally]()
var familyCases = [String: Int]()
var reported = 0

@MainActor func disagree(_ index: Int, _ fuzzCase: FuzzCase, _ backend: String, _ message: String) {
    tallies[backend]!.disagreements += 1
    reported += 1
    guard reported <= 20 else { return }
    print("DISAGREEMENT case \(index) on \(backend): \(message)\n  \(fuzzCase.describe())\n  replay: CNNKitFuzz --only \(index) \(cases) \(seed) --verbose")
}

func summary(_ outcome: Outcome) -> String {
    switch outcome {
    case .output(let values, let indices): return "output of \(values.count) elements" + (indices == nil ? "" : " with indices")
    case .error(let error): return "\(error.kind): \(error)"
    case .foreign(let text): return "a non-CNNKit error: \(text)"
    }
}

// MARK: The run

let started = Date()
let indices: [Int] = only.map { [$0] } ?? Array(0..<cases)
var index = 0
for caseIndex in indices {
    index = caseIndex
    var fuzz = Fuzz(seed: seed, index: caseIndex)
    let fuzzCase = Generators.make(&fuzz, index: caseIndex)
    if let familyFilter, fuzzCase.family != familyFilter { continue }
    familyCases[fuzzCase.family, default: 0] += 1
    if verbose { print("case \(caseIndex): \(fuzzCase.describe())"); fflush(nil) }
    CrashReporter.enter(caseIndex, backend: 0)
    let expected = fuzzCase.run(reference)
    if verbose { print("  reference: \(summary(expected))"); fflush(nil) }
    for (position, target) in targets.enumerated() {
        CrashReporter.enter(caseIndex, backend: position + 1)
        var tally = tallies[target.name] ?? Tally()
        tally.cases += 1
        tallies[target.name] = tally
        let actual: Outcome
        if target.name == reference.name {
            actual = expected
        } else if fuzzCase.family == "conv", !target.convolutionVariants.isEmpty, caseIndex / Generators.families.count % 2 == 1 {
            let variant = target.convolutionVariants[(caseIndex / (2 * Generators.families.count)) % target.convolutionVariants.count]
            actual = fuzzCase.run(variant)
        } else {
            actual = fuzzCase.run(target.instance)
        }
        if verbose && target.name != reference.name { print("  \(target.name): \(summary(actual))"); fflush(nil) }
        switch actual {
        case .error(let error): tallies[target.name]!.errors[error.kind, default: 0] += 1
        case .foreign(let text): disagree(caseIndex, fuzzCase, target.name, "threw a non-CNNKit error: \(text)"); continue
        case .output: break
        }
        if fuzzCase.mustThrow, case .output = actual {
            disagree(caseIndex, fuzzCase, target.name, "accepted a case made invalid on purpose")
            continue
        }
        switch (expected, actual) {
        case (.output(let e, let ei), .output(let a, let ai)):
            guard let rule = fuzzCase.rule else { break }
            tallies[target.name]!.compared += 1
            if let message = CrossCheck.mismatch(a, e, rule) {
                disagree(caseIndex, fuzzCase, target.name, message)
            } else if let ei, let ai, let message = CrossCheck.mismatch(ai, ei) {
                disagree(caseIndex, fuzzCase, target.name, "indices: \(message)")
            }
        case (.output, .error(let error)):
            // A backend may decline (the registry then runs the next one) or run out of budget; anything else
            // rejects what the reference accepts.
            if error.kind != .unsupported && error.kind != .outOfMemory {
                disagree(caseIndex, fuzzCase, target.name, "threw where the reference ran: \(error)")
            }
        case (.error(let error), .output):
            if error.kind != .unsupported && error.kind != .outOfMemory {
                disagree(caseIndex, fuzzCase, target.name, "ran where the reference threw: \(error)")
            }
        case (.foreign(let text), _):
            if target.name == reference.name { break }
            disagree(caseIndex, fuzzCase, reference.name, "threw a non-CNNKit error: \(text)")
        default:
            break
        }
    }
}
CrashReporter.enter(-1, backend: 0)

// MARK: Report

let seconds = Date().timeIntervalSince(started)
print("CNNKitFuzz: seed \(seed), \(indices.count) cases in \(String(format: "%.1f", seconds)) s, memory budget \(budget) bytes")
print("families: " + Generators.families.map { "\($0) \(familyCases[$0, default: 0])" }.joined(separator: ", "))
let kinds: [CNNKitError.Kind] = [.invalidArgument, .shapeMismatch, .overflow, .outOfMemory, .unsupported, .io]
var totalDisagreements = 0
for target in targets {
    let t = tallies[target.name] ?? Tally()
    totalDisagreements += t.disagreements
    let errors = kinds.map { "\($0) \(t.errors[$0, default: 0])" }.joined(separator: ", ")
    print("backend \(target.name): \(t.cases) cases, \(t.compared) outputs compared with the reference, errors thrown: \(errors); crashes 0, hangs 0, disagreements \(t.disagreements)")
}
exit(totalDisagreements == 0 ? 0 : 1)
