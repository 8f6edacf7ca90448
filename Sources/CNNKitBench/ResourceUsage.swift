#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CPeakProbe
import Foundation

/// Peak resident memory of this process, resettable per benchmark case.
///
/// On Linux the peak is the kernel's high-water mark of resident memory (`VmHWM` in /proc/self/status), reset
/// before each case by writing `5` to /proc/self/clear_refs, so a case's figure is the process's resident memory
/// at its start (the tool itself, freed heap the C library kept) plus what the case touched. `getrusage`'s
/// `ru_maxrss` reads the same high-water mark but folds it into a per-process maximum whenever a thread exits,
/// after which no reset reaches it; it is the fallback where /proc is unavailable.
public enum ResourceUsage {
    /// Resets the peak to the current resident size; false where that is not possible (then peaks only grow).
    @discardableResult
    public static func resetPeak() -> Bool {
        #if os(Linux)
        ck_probe_trim_heap()
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? handle.close() }
        do {
            try handle.write(contentsOf: Data("5".utf8))
            return true
        } catch {
            return false
        }
        #else
        return false
        #endif
    }

    /// The peak resident size in bytes since the last reset (or since the start).
    public static func peakResidentBytes() -> Int {
        if let kib = statusField("VmHWM:") { return kib * 1024 }
        var usage = rusage()
        guard getrusage(RUSAGE_SELF_VALUE, &usage) == 0 else { return 0 }
        #if canImport(Darwin)
        return Int(usage.ru_maxrss)  // bytes on Darwin
        #else
        return Int(usage.ru_maxrss) * 1024  // KiB on Linux
        #endif
    }

    /// The current resident size in bytes (0 if unknown).
    public static func currentResidentBytes() -> Int {
        (statusField("VmRSS:") ?? 0) * 1024
    }

    #if canImport(Glibc)
    private static let RUSAGE_SELF_VALUE = __rusage_who_t(RUSAGE_SELF.rawValue)
    #else
    private static let RUSAGE_SELF_VALUE = RUSAGE_SELF
    #endif

    private static func statusField(_ name: String) -> Int? {
        #if os(Linux)
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name) {
            let digits = line.dropFirst(name.count).trimmingCharacters(in: .whitespaces).split(separator: " ").first
            return digits.flatMap { Int($0) }
        }
        #endif
        return nil
    }
}
