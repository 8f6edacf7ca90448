import Foundation

/// Text and Markdown rendering of benchmark rows and machine peaks.
public enum BenchTable {
    static let columns: [(title: String, width: Int, left: Bool)] = [
        ("case", 29, true), ("backend", 9, true), ("algorithm", 11, true), ("thr", 3, false), ("median ms", 10, false),
        ("min ms", 10, false), ("rate", 15, false), ("%peak", 6, false), ("%roof", 6, false), ("vs ref", 8, false),
        ("ws MiB", 7, false), ("RSS MiB", 7, false),
    ]

    public static func header(markdown: Bool) -> String {
        let titles = columns.map(\.title)
        if markdown {
            return "| " + titles.joined(separator: " | ") + " |\n|"
                + columns.map { $0.left ? " --- |" : " ---: |" }.joined()
        }
        return line(titles)
    }

    public static func row(_ r: BenchRecord, markdown: Bool) -> String {
        let rate: String
        if r.metric == "flops", let g = r.gflops {
            rate = String(format: "%.2f GFLOP/s", g)
        } else if let b = r.gbs {
            rate = String(format: "%.2f GB/s", b)
        } else {
            rate = "-"
        }
        let speedup: String
        if let s = r.speedupVsReference {
            let text = s >= 100 ? String(format: "%.0fx", s) : String(format: "%.1fx", s)
            speedup = (r.referenceEstimated ? "~" : "") + text
        } else {
            speedup = "-"
        }
        let cells = [
            r.caseName, r.backend, r.algorithm, "\(r.threads)", milliseconds(r.medianMs), milliseconds(r.minMs), rate,
            percent(r.peakFraction), percent(r.rooflineFraction), speedup,
            String(format: "%.1f", Double(r.workspaceBytes) / 1048576), String(format: "%.0f", Double(r.peakRssBytes) / 1048576),
        ]
        if markdown { return "| " + cells.joined(separator: " | ") + " |" }
        return line(cells)
    }

    static func line(_ cells: [String]) -> String {
        zip(cells, columns).map { cell, column in
            let pad = String(repeating: " ", count: max(0, column.width - cell.count))
            return column.left ? cell + pad : pad + cell
        }.joined(separator: " ")
    }

    static func milliseconds(_ ms: Double) -> String {
        ms >= 100 ? String(format: "%.1f", ms) : ms >= 1 ? String(format: "%.3f", ms) : String(format: "%.4f", ms)
    }

    static func percent(_ fraction: Double?) -> String {
        guard let fraction else { return "-" }
        return fraction >= 0.1 ? String(format: "%.0f%%", fraction * 100) : String(format: "%.1f%%", fraction * 100)
    }

    /// The machine block printed above a table and by `--peak`.
    public static func machineSummary(_ p: MachinePeak) -> String {
        let l3 = p.l3Bytes > 0 ? "\(p.l3Bytes >> 20) MiB" : "unknown"
        let avx512 = p.fmaAvx512GflopsN > 0
            ? "\n(this CPU also has AVX-512: \(f1(p.fmaAvx512Gflops1)) GFLOP/s with 1 thread, \(f1(p.fmaAvx512GflopsN)) with \(p.threadsN); %peak uses it for kernels that run AVX-512, else AVX2)"
            : ""
        return """
            machine: \(p.cpuModel), \(p.logicalCores) logical cores, L3 \(l3)
            peak FMA (AVX2, fp32): \(f1(p.fmaGflops1)) GFLOP/s with 1 thread, \(f1(p.fmaGflopsN)) GFLOP/s with \(p.threadsN)\(avx512)
            copy, DRAM (2 x \(p.dramBufferBytes >> 20) MiB): \(f1(p.dramCopyGbs1)) GB/s with 1 thread, \(f1(p.dramCopyGbsN)) GB/s with \(p.threadsN); \(f1(p.dramStreamCopyGbsN)) GB/s with streaming stores
            copy, L3-resident (2 x \(p.l3BufferBytes >> 20) MiB): \(f1(p.l3CopyGbs1)) GB/s with 1 thread, \(f1(p.l3CopyGbsN)) GB/s with \(p.threadsN)
            (copy rates count bytes read + bytes written; measured \(p.measuredAt), load average then \(String(format: "%.2f", p.loadAverage)))
            """
    }

    static func f1(_ value: Double) -> String { String(format: "%.1f", value) }
}
