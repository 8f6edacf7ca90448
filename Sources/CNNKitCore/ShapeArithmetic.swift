import Foundation
import Synchronization

// Shape arithmetic that cannot trap: every product of extents, and every sum or product that mixes extents with
// attributes, goes through these helpers (or is proven bounded where it is formed). An empty tensor (an extent 0)
// is recognised before any product of its extents is formed, so `[0, 2^40, 2^40]` is simply empty.

/// The product of `values` (all ≥ 0), or nil when it does not fit in `Int`. A 0 anywhere gives 0 before anything
/// is multiplied, so the extents of an empty tensor never overflow.
@inline(__always)
package func checkedProduct(_ values: some Collection<Int>) -> Int? {
    if values.contains(0) { return 0 }
    var product = 1
    for value in values {
        let (next, overflow) = product.multipliedReportingOverflow(by: value)
        if overflow { return nil }
        product = next
    }
    return product
}

/// The product of `values` (all ≥ 0), `Int.max` when it does not fit (for work and size estimates).
@inline(__always)
package func saturatingProduct(_ values: some Collection<Int>) -> Int { checkedProduct(values) ?? .max }

/// `a · b` for `a, b ≥ 0`, `Int.max` when it does not fit.
@inline(__always)
package func saturatingMultiply(_ a: Int, _ b: Int) -> Int {
    let (product, overflow) = a.multipliedReportingOverflow(by: b)
    return overflow ? .max : product
}

/// `a + b`, `Int.max` / `Int.min` when it does not fit.
@inline(__always)
package func saturatingAdd(_ a: Int, _ b: Int) -> Int {
    let (sum, overflow) = a.addingReportingOverflow(b)
    return overflow ? (b > 0 ? .max : .min) : sum
}

/// `a · b`, or a ``CNNKitError`` of kind `.overflow` naming `parameter`.
package func multiplied(_ a: Int, _ b: Int, _ parameter: String, _ value: @autoclosure () -> String) throws -> Int {
    let (product, overflow) = a.multipliedReportingOverflow(by: b)
    guard !overflow else {
        throw CNNKitError.invalidArgument(parameter, value: value(), expected: "a size product that fits in Int", kind: .overflow)
    }
    return product
}

/// `a + b`, or a ``CNNKitError`` of kind `.overflow` naming `parameter`.
package func added(_ a: Int, _ b: Int, _ parameter: String, _ value: @autoclosure () -> String) throws -> Int {
    let (sum, overflow) = a.addingReportingOverflow(b)
    guard !overflow else {
        throw CNNKitError.invalidArgument(parameter, value: value(), expected: "a size sum that fits in Int", kind: .overflow)
    }
    return sum
}

/// The memory a call may use: every output, workspace and intermediate buffer CNNKit allocates is compared with
/// it first, and a request that does not fit throws ``CNNKitError`` of kind `.outOfMemory` (saying how many bytes
/// were needed and how many are available) instead of failing to allocate or waking the OOM killer.
///
/// The budget is ``limit`` when the caller sets one, else the kernel's `MemAvailable` (`/proc/meminfo`: free memory
/// plus reclaimable caches), else the physical memory. Requests below ``uncheckedBytes`` are not compared with
/// `MemAvailable` (reading it costs a system call; such an allocation cannot be the one that exhausts a machine);
/// with a ``limit`` every request is compared.
public enum MemoryBudget {
    private static let storage = Mutex<Int?>(nil)

    /// A caller-set budget in bytes for any one allocation request (an operator's output, workspace and
    /// intermediates); `nil` (the default) uses `MemAvailable`. Thread-safe; process-wide.
    public static var limit: Int? {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue.map { max(0, $0) } } }
    }

    /// Requests below this many bytes are not compared with `MemAvailable` (64 MiB).
    public static let uncheckedBytes = 64 << 20

    /// The bytes available now: ``limit`` if set, else `MemAvailable`, else the physical memory.
    public static var available: Int {
        if let limit { return limit }
        return systemAvailable()
    }

    /// `MemAvailable` from `/proc/meminfo` in bytes, or the physical memory when it cannot be read.
    public static func systemAvailable() -> Int {
        let physical = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        guard let meminfo = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return physical }
        for line in meminfo.split(separator: "\n") {
            let text = String(line)
            guard text.hasPrefix("MemAvailable:") else { continue }
            let digits = text.dropFirst("MemAvailable:".count).filter(\.isNumber)
            guard let kib = Int(digits) else { return physical }
            return min(saturatingMultiply(kib, 1024), physical)
        }
        return physical
    }

    /// Throws unless `bytes` fit in the budget.
    /// - Parameters:
    ///   - bytes: what the call needs (`Int.max` stands for "more than fits in Int").
    ///   - what: what the memory is for, e.g. `output [1, 3, 40000, 40000]`; quoted in the error.
    ///   - problem: the canonical problem string, if any.
    /// - Throws: ``CNNKitError`` of kind `.outOfMemory`, parameter `memory`.
    public static func require(_ bytes: Int, for what: @autoclosure () -> String, problem: String? = nil) throws {
        let limit = self.limit
        guard bytes > 0, limit != nil || bytes >= uncheckedBytes else { return }
        let available = limit ?? systemAvailable()
        guard bytes > available else { return }
        throw CNNKitError(
            kind: .outOfMemory, parameter: "memory",
            value: "\(bytes == .max ? "more than \(Int.max)" : "\(bytes)") bytes needed for \(what())",
            expected: "at most the \(available) bytes available (\(limit != nil ? "MemoryBudget.limit" : "MemAvailable"))",
            problem: problem)
    }

    /// Throws unless `count` elements of `Scalar`, plus `extra` bytes, fit in the budget.
    public static func require<Scalar>(
        elements count: Int, of _: Scalar.Type, extra: Int = 0, for what: @autoclosure () -> String, problem: String? = nil
    ) throws {
        let bytes = saturatingAdd(saturatingMultiply(count, MemoryLayout<Scalar>.stride), max(0, extra))
        try require(bytes, for: what(), problem: problem)
    }
}

extension ResizeProblem {
    /// An upper estimate of the bytes of per-axis tap lists for this resize (`perTap` bytes per tap, `perOutput`
    /// per output position): about `2·support/scale + 3` taps per output position, never more than the input
    /// length + 8. 0 for an empty output. Backends compare it with ``MemoryBudget`` before building tap tables.
    package func tapTableBytes(perTap: Double, perOutput: Double) -> Int {
        guard checkedProduct(outputShape) != 0 else { return 0 }
        var total = 0.0
        for axis in inputShape.indices {
            let support = descriptor.mode.support, filterScale = self.filterScale(axis: axis)
            let taps = min(2 * support / filterScale + 3, Double(inputShape[axis]) + 8)
            total += Double(outputShape[axis]) * (perTap * taps + perOutput)
        }
        return total < 0x1p62 ? Int(total) : .max
    }
}
