import CPeakProbe
import Foundation

/// What this machine can do at best: FMA rate and copy bandwidth, measured by `cnnkit bench --peak`
/// (C probes in `Sources/CPeakProbe`). `cnnkit bench` rates every case against these.
///
/// Measured once and cached in `$XDG_CACHE_HOME/cnnkit/peak.json` (default `~/.cache/cnnkit/peak.json`), keyed by
/// the CPU model and the logical core count; `cnnkit bench --peak` always measures again and rewrites the cache.
public struct MachinePeak: Codable, Sendable {
    public var cpuModel: String
    public var logicalCores: Int
    /// Last-level cache size the C library reports (0 if unknown).
    public var l3Bytes: Int
    /// N in the `…N` fields: the logical core count at measurement.
    public var threadsN: Int
    /// AVX2 FMA GFLOP/s (2 FLOP per lane per FMA) with 1 and N threads.
    public var fmaGflops1: Double
    public var fmaGflopsN: Double
    /// The same with 512-bit FMA, 0 without AVX-512 (informational: the fractions use the AVX2 figures).
    public var fmaAvx512Gflops1: Double = 0
    public var fmaAvx512GflopsN: Double = 0
    /// Copy GB/s (read + write bytes) of an array far larger than L3 with ordinary stores, 1 and N threads.
    public var dramCopyGbs1: Double
    public var dramCopyGbsN: Double
    /// The same with non-temporal (streaming) stores, N threads.
    public var dramStreamCopyGbsN: Double
    /// Copy GB/s of an L3-resident array (larger than L2), 1 and N threads.
    public var l3CopyGbs1: Double
    public var l3CopyGbsN: Double
    /// Bytes of each of the two buffers of the DRAM and the L3 copy.
    public var dramBufferBytes: Int
    public var l3BufferBytes: Int
    /// 1-minute load average when measured: other work on the machine lowers every figure.
    public var loadAverage: Double
    public var measuredAt: String

    enum CodingKeys: String, CodingKey {
        case cpuModel = "cpu_model", logicalCores = "logical_cores", l3Bytes = "l3_bytes", threadsN = "threads_n"
        case fmaGflops1 = "fma_gflops_1", fmaGflopsN = "fma_gflops_n"
        case fmaAvx512Gflops1 = "fma_avx512_gflops_1", fmaAvx512GflopsN = "fma_avx512_gflops_n"
        case dramCopyGbs1 = "dram_copy_gbs_1", dramCopyGbsN = "dram_copy_gbs_n", dramStreamCopyGbsN = "dram_stream_copy_gbs_n"
        case l3CopyGbs1 = "l3_copy_gbs_1", l3CopyGbsN = "l3_copy_gbs_n"
        case dramBufferBytes = "dram_buffer_bytes", l3BufferBytes = "l3_buffer_bytes"
        case loadAverage = "load_average", measuredAt = "measured_at"
    }

    /// Peak FMA GFLOP/s for `threads` threads: the 1-thread figure times the threads, at most the N-thread figure.
    /// `avx512` takes the AVX-512 figures (when measured), for kernels that run AVX-512.
    public func fmaGflops(threads: Int, avx512: Bool = false) -> Double {
        let (one, many) = avx512 && fmaAvx512Gflops1 > 0 ? (fmaAvx512Gflops1, fmaAvx512GflopsN) : (fmaGflops1, fmaGflopsN)
        return threads <= 1 ? one : min(many, one * Double(threads))
    }

    /// Whether a working set of `bytes` counts as L3-resident (at most the L3 size; 32 MiB if unknown).
    public func fitsInL3(_ bytes: Int) -> Bool {
        bytes <= (l3Bytes > 0 ? l3Bytes : 32 << 20)
    }

    /// Copy bandwidth for a working set of `bytes` with `threads` threads: the L3 figure when it fits in L3, else
    /// the DRAM figure with ordinary stores.
    public func copyGbs(bytes: Int, threads: Int) -> Double {
        let (one, many) = fitsInL3(bytes) ? (l3CopyGbs1, l3CopyGbsN) : (dramCopyGbs1, dramCopyGbsN)
        return threads <= 1 ? one : min(many, one * Double(threads))
    }

    /// Runs the probes (a few seconds; the DRAM copy allocates two buffers of up to 1 GiB each, once).
    /// - Parameter trials: each figure is the best of 20 × this many short runs.
    public static func measure(trials: Int = 3, progress: (String) -> Void = { _ in }) throws -> MachinePeak {
        guard ck_probe_has_avx2_fma() != 0 else {
            throw BenchError("the peak probes need an x86-64 CPU with AVX2 and FMA")
        }
        let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let l3 = Int(ck_probe_l3_bytes())
        let l3Known = l3 > 0 ? l3 : 32 << 20
        // DRAM: each buffer >= 2 x L3 (and >= 256 MiB), at most 1 GiB. L3: both buffers together <= L3/2, <= 16 MiB.
        let dramBytes = min(1 << 30, max(256 << 20, 2 * l3Known))
        let l3Buffer = min(8 << 20, l3Known / 4)
        // Many short trials, best kept: on a machine shared with other work, some trials get the cores to themselves.
        let fmaTrials = 20 * max(1, trials), copyTrials = 20 * max(1, trials)
        progress("FMA, 1 thread")
        let fma1 = ck_probe_fma_gflops(1, 0.01, Int32(fmaTrials))
        progress("FMA, \(cores) threads")
        let fmaN = ck_probe_fma_gflops(Int32(cores), 0.01, Int32(fmaTrials))
        var avx512: (Double, Double) = (0, 0)
        if ck_probe_has_avx512() != 0 {
            progress("FMA with AVX-512, 1 and \(cores) threads")
            avx512 = (ck_probe_fma512_gflops(1, 0.01, Int32(fmaTrials)), ck_probe_fma512_gflops(Int32(cores), 0.01, Int32(fmaTrials)))
        }
        guard let l3Arena = ck_probe_arena_create(Int64(l3Buffer)) else {
            throw BenchError("cannot allocate 2 x \(l3Buffer) bytes for the L3 copy probe")
        }
        progress("L3 copy, 1 thread")
        let l3c1 = ck_probe_copy_gbs(l3Arena, 1, 0, Int64(l3Buffer), 4, Int32(copyTrials))
        progress("L3 copy, \(cores) threads")
        let l3cN = ck_probe_copy_gbs(l3Arena, Int32(cores), 0, Int64(l3Buffer), 4, Int32(copyTrials))
        ck_probe_arena_destroy(l3Arena)
        guard let dramArena = ck_probe_arena_create(Int64(dramBytes)) else {
            throw BenchError("cannot allocate 2 x \(dramBytes) bytes for the DRAM copy probe")
        }
        // 64 MiB windows moving through the arena: each trial copies data that is not in any cache.
        let window = Int64(64 << 20)
        progress("DRAM copy, 1 thread")
        let dram1 = ck_probe_copy_gbs(dramArena, 1, 0, window, 1, Int32(copyTrials))
        progress("DRAM copy, \(cores) threads")
        let dramN = ck_probe_copy_gbs(dramArena, Int32(cores), 0, window, 1, Int32(copyTrials))
        progress("DRAM copy with streaming stores, \(cores) threads")
        let streamN = ck_probe_copy_gbs(dramArena, Int32(cores), 1, window, 1, Int32(copyTrials))
        ck_probe_arena_destroy(dramArena)
        return MachinePeak(
            cpuModel: Self.cpuModel(), logicalCores: cores, l3Bytes: l3, threadsN: cores, fmaGflops1: fma1,
            fmaGflopsN: fmaN, fmaAvx512Gflops1: avx512.0, fmaAvx512GflopsN: avx512.1, dramCopyGbs1: dram1, dramCopyGbsN: dramN, dramStreamCopyGbsN: streamN,
            l3CopyGbs1: l3c1, l3CopyGbsN: l3cN, dramBufferBytes: dramBytes, l3BufferBytes: l3Buffer,
            loadAverage: Self.loadAverage(), measuredAt: ISO8601DateFormatter().string(from: Date()))
    }

    /// The cached figures for this machine, if any.
    public static func cached() -> MachinePeak? {
        guard let data = try? Data(contentsOf: cacheURL),
              let peak = try? JSONDecoder().decode(MachinePeak.self, from: data),
              peak.cpuModel == cpuModel(), peak.logicalCores == ProcessInfo.processInfo.activeProcessorCount
        else { return nil }
        return peak
    }

    /// Writes the cache (best effort; returns whether it worked).
    @discardableResult
    public func store() -> Bool {
        let url = Self.cacheURL
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(self) else { return false }
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url, options: .atomic)
            return true
        } catch {
            return false
        }
    }

    /// `$XDG_CACHE_HOME/cnnkit/peak.json`, or `~/.cache/cnnkit/peak.json`.
    public static var cacheURL: URL {
        let environment = ProcessInfo.processInfo.environment
        let base: URL
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            base = URL(fileURLWithPath: xdg, isDirectory: true)
        } else {
            base = URL(fileURLWithPath: NSHomeDirectory(), isDirectory: true).appendingPathComponent(".cache", isDirectory: true)
        }
        return base.appendingPathComponent("cnnkit", isDirectory: true).appendingPathComponent("peak.json")
    }

    /// `model name` from /proc/cpuinfo, or "unknown CPU".
    public static func cpuModel() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown CPU" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return "unknown CPU"
    }

    /// The 1-minute load average (/proc/loadavg), or -1.
    public static func loadAverage() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8),
              let first = text.split(separator: " ").first, let value = Double(first) else { return -1 }
        return value
    }
}
