import ArgumentParser
import CNNKit
import CNNKitImageIO
import Foundation

/// What an image operation produced: the tensor to write and how to write it.
struct OutputImage: Sendable {
    var tensor: Tensor
    /// PNG / JPEG: stretch min…max to 0…255 instead of clamping `[0, 1]`.
    var normalize: Bool = false
    /// `.npy`: drop leading size-1 axes down to this rank where possible.
    var npyRank: Int = 4
}

/// Runs one image operation over IN → OUT, where both are files or both are folders.
///
/// - File mode: IN is a `.png`/`.jpg`/`.npy` file; OUT is a file (its extension picks the format) or an existing
///   folder (the output then keeps IN's file name). Success prints one line (what was written, its size, the
///   time) unless `--quiet`; an error prints one line and exits with status 1.
/// - Folder mode: IN is a folder; every `.png`, `.jpg`, `.jpeg` and `.npy` directly inside it (in name order, only
///   shard K of N with `--shard K/N`, without those whose output exists with `--skip-existing`) is processed and
///   written to OUT (created if missing) under the same name (`outputExtension` replaces the extension if set).
///   The files flow through a three-stage pipeline — a reader thread decodes the next files while the operation
///   runs on the current one and a writer thread encodes and writes the previous results — with at most two files
///   waiting between stages. A file that fails is reported on one line and skipped; the others are still
///   processed. A progress bar is drawn on stderr when it is a terminal; a summary line ends the run (unless
///   `--quiet`); the status is 1 if any file failed.
///
/// Outputs are written atomically (temporary file, then rename), so a failure leaves no partial file, and an
/// existing output is always complete (which is what makes `--skip-existing` safe after an interrupted run). SIGINT,
/// SIGTERM and SIGHUP wait for the file being written and exit with 128 + the signal number (``Interrupts``), so
/// an interrupted run leaves no temporary file either. Inputs must be regular files (a FIFO would block the reader).
struct FileRunner {
    var input: String
    var output: String
    var common: CommonOptions
    var batch: BatchOptions
    /// JPEG output quality.
    var quality: Int = ImageIO.defaultJPEGQuality
    /// Forces the output extension (features always writes PNG), or nil to keep the input's.
    var outputExtension: String?

    /// The operation: from the input file to what to write; records its steps on the clock.
    typealias Operation = (_ image: ImageFile, _ inputPath: String, _ outputPath: String, _ clock: inout StepClock) throws -> OutputImage

    func run(_ operation: Operation) throws {
        guard (1...100).contains(quality) else { throw CLIError("--quality \(quality): expected a JPEG quality from 1 to 100") }
        let shard = try batch.parsedShard()
        var isFolder: ObjCBool = false
        let inputExists = FileManager.default.fileExists(atPath: input, isDirectory: &isFolder)
        if inputExists && isFolder.boolValue {
            try runFolder(operation, shard: shard)
        } else {
            if let shard {
                throw CLIError("--shard \(shard): needs an input folder (\(input) is not a folder)")
            }
            var destination = output
            var outputIsFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: output, isDirectory: &outputIsFolder), outputIsFolder.boolValue {
                destination = (output as NSString).appendingPathComponent(outputName(for: input))
            }
            if batch.skipExisting && FileManager.default.fileExists(atPath: destination) {
                if !batch.quiet { Console.line("cnnkit: \(destination) exists; skipped (--skip-existing)") }
                return
            }
            do {
                let start = DispatchTime.now().uptimeNanoseconds
                let (clock, data, format, written) = try processOne(input, destination, operation)
                if common.time { Console.line("\(input): \(clock.summary)") }
                if !batch.quiet {
                    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                    Console.line("cnnkit: wrote \(destination) (\(outputSummary(written.tensor, format, npyRank: written.npyRank)), \(formatBytes(data))) in \(formatDuration(seconds))")
                }
            } catch {
                Console.error(describe(error, file: input))
                throw ExitCode(1)
            }
        }
    }

    private func outputName(for path: String) -> String {
        let name = (path as NSString).lastPathComponent
        guard let outputExtension else { return name }
        return ((name as NSString).deletingPathExtension as NSString).appendingPathExtension(outputExtension) ?? name
    }

    private static func resolved(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }

    /// Reads, runs and writes one file (file mode).
    private func processOne(
        _ inputPath: String, _ outputPath: String, _ operation: Operation
    ) throws -> (StepClock, Int, ImageFileFormat, OutputImage) {
        let format = try ImageFileFormat(path: outputPath)
        guard Self.resolved(inputPath) != Self.resolved(outputPath) else {
            throw CLIError("\(outputPath): the output would overwrite the input; choose another name or folder")
        }
        var clock = StepClock()
        try requireRegularFile(inputPath)
        let image = try clock.measure("read") { try ImageIO.read(inputPath) }
        for note in image.notes { Console.note(note) }
        let result = try operation(image, inputPath, outputPath, &clock)
        let bytes = try clock.measure("write") {
            let data = try ImageIO.encode(
                result.tensor, as: format, normalize: result.normalize, npyRank: result.npyRank, quality: quality,
                path: outputPath)
            try OutputGate.shared.write { try ImageIO.writeAtomically(data, to: outputPath) }
            return data.count
        }
        return (clock, bytes, format, result)
    }

    /// `451x300 RGB PNG`, `.npy [3, 300, 451]`.
    private func outputSummary(_ tensor: Tensor, _ format: ImageFileFormat, npyRank: Int) -> String {
        if format == .npy {  // the shape as stored: leading size-1 axes dropped down to the input's rank
            var shape = tensor.shape
            while shape.count > max(npyRank, 2), shape.first == 1 { shape.removeFirst() }
            return ".npy \(shape)"
        }
        let shape = tensor.shape
        let (channels, height, width) = (shape.count >= 3 ? shape[shape.count - 3] : 1, shape[shape.count - 2], shape[shape.count - 1])
        return "\(width)x\(height) \(channels == 1 ? "gray" : "RGB") \(format == .png ? "PNG" : "JPEG")"
    }

    // MARK: folders

    /// One input file on its way through the pipeline.
    private struct Item: Sendable {
        var index: Int
        var name: String
        var source: String
        var destination: String
        var clock = StepClock()
        var image: ImageFile?
        var failure: String?
        var result: OutputImage?
    }

    private func runFolder(_ operation: Operation, shard: Shard?) throws {
        guard Self.resolved(input) != Self.resolved(output) else {
            throw CLIError("\(output): the output folder must differ from the input folder (outputs keep the input names)")
        }
        let listed: [String]
        do {
            listed = try FileManager.default.contentsOfDirectory(atPath: input)
                .filter { !$0.hasPrefix(".") && ImageFileFormat.isSupported($0) }
                .sorted()
        } catch {
            throw CLIError("\(input): cannot list the folder (\(error.localizedDescription))")
        }
        guard !listed.isEmpty else { throw CLIError("\(input): no .png, .jpg, .jpeg or .npy files in this folder") }
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: output, isDirectory: &isFolder) {
            guard isFolder.boolValue else {
                throw CLIError("\(output): not a folder (with an input folder, OUT must be a folder)")
            }
        } else {
            do { try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true) } catch {
                throw CLIError("\(output): cannot create the output folder")
            }
        }
        let inShard = shard.map { shard in listed.filter(shard.contains) } ?? listed
        var items: [Item] = []
        var skipped = 0
        for name in inShard {
            let destination = (output as NSString).appendingPathComponent(outputName(for: name))
            if batch.skipExisting && FileManager.default.fileExists(atPath: destination) {
                skipped += 1
                continue
            }
            items.append(Item(
                index: items.count, name: name, source: (input as NSString).appendingPathComponent(name),
                destination: destination))
        }

        let start = DispatchTime.now().uptimeNanoseconds
        let outcome = Pipeline.run(
            items, quality: quality, showTimes: common.time,
            read: { item in
                var item = item
                do {
                    _ = try ImageFileFormat(path: item.destination)
                    try requireRegularFile(item.source)
                    item.image = try item.clock.measure("read") { try ImageIO.read(item.source) }
                } catch {
                    item.failure = describe(error, file: item.source)
                }
                return item
            },
            compute: { item in
                var item = item
                guard let image = item.image else { return item }
                for note in image.notes { Console.note(note) }
                do {
                    item.result = try operation(image, item.source, item.destination, &item.clock)
                } catch {
                    item.failure = describe(error, file: item.source)
                }
                item.image = nil  // free the input while the output waits for the writer
                return item
            })
        Console.progress(items.count, of: items.count, "done")
        Console.clearProgress()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if !batch.quiet {
            let failed = outcome.failed.sorted { $0.index < $1.index }.map(\.name)
            var line = "cnnkit: "
            if let shard { line += "shard \(shard) (\(inShard.count) of \(listed.count) files): " }
            line += "\(items.count - failed.count) of \(items.count) files written to \(output) (\(formatBytes(outcome.bytes)))"
            if skipped > 0 { line += ", \(skipped) skipped (output exists)" }
            if !failed.isEmpty { line += ", \(failed.count) failed (\(failed.joined(separator: ", ")))" }
            Console.line(line + " in \(formatDuration(seconds))")
        }
        if !outcome.failed.isEmpty { throw ExitCode(1) }
    }

    /// The three stages of a folder run: `read` on a reader thread, `compute` on the calling thread, encoding and
    /// writing on a writer thread; bounded queues of two items between them.
    private enum Pipeline {
        struct Outcome {
            var failed: [(index: Int, name: String)]
            var bytes: Int
        }

        static func run(
            _ items: [Item], quality: Int, showTimes: Bool, read: @escaping @Sendable (Item) -> Item, compute: (Item) -> Item
        ) -> Outcome {
            let decoded = BoundedQueue<Item>(capacity: 2)
            let computed = BoundedQueue<Item>(capacity: 2)
            let results = Results()
            let total = items.count
            let readerDone = DispatchSemaphore(value: 0), writerDone = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                for item in items { decoded.push(read(item)) }
                decoded.close()
                readerDone.signal()
            }
            Thread.detachNewThread {
                while let item = computed.pop() {
                    write(item, quality: quality, showTimes: showTimes, results: results)
                    Console.progress(results.finished, of: total, item.name)
                }
                writerDone.signal()
            }
            while let item = decoded.pop() {
                let done = compute(item)
                if let failure = done.failure {
                    results.fail(done, failure)
                } else {
                    computed.push(done)
                }
            }
            computed.close()
            readerDone.wait()
            writerDone.wait()
            return Outcome(failed: results.failed, bytes: results.bytes)
        }

        static func write(_ item: Item, quality: Int, showTimes: Bool, results: Results) {
            guard let result = item.result else { return }
            var item = item
            do {
                let bytes = try item.clock.measure("write") {
                    let data = try ImageIO.encode(
                        result.tensor, as: try ImageFileFormat(path: item.destination), normalize: result.normalize,
                        npyRank: result.npyRank, quality: quality, path: item.destination)
                    try OutputGate.shared.write { try ImageIO.writeAtomically(data, to: item.destination) }
                    return data.count
                }
                results.succeed(bytes)
                if showTimes { Console.line("\(item.source): \(item.clock.summary)") }
            } catch {
                results.fail(item, describe(error, file: item.source))
            }
        }
    }

    /// What the writer and the compute stage report, behind a lock.
    private final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var failed: [(index: Int, name: String)] = []
        private(set) var bytes = 0
        private var count = 0

        var finished: Int { lock.withLock { count } }

        func succeed(_ written: Int) {
            lock.withLock {
                bytes += written
                count += 1
            }
        }

        func fail(_ item: Item, _ message: String) {
            Console.clearProgress()
            Console.error(message + " (skipped)")
            lock.withLock {
                failed.append((item.index, item.name))
                count += 1
            }
        }
    }
}

/// A first-in first-out queue of at most `capacity` items between two threads; `pop` returns nil once the queue is
/// closed and empty.
final class BoundedQueue<Element: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Element] = []
    private var closed = false
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func push(_ item: Element) {
        condition.lock()
        while items.count >= capacity && !closed { condition.wait() }
        items.append(item)
        condition.broadcast()
        condition.unlock()
    }

    func pop() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !closed { condition.wait() }
        guard !items.isEmpty else { return nil }
        condition.broadcast()
        return items.removeFirst()
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}

/// `--shard K/N`: the files of an input folder whose name hashes to K modulo N.
///
/// The hash is 64-bit FNV-1a of the file name's UTF-8 bytes (the name relative to the input folder): it depends on
/// nothing but the name, so every machine, every run and every Swift version splits a folder the same way, and
/// shards 0…N−1 together cover every file exactly once.
struct Shard: CustomStringConvertible, Sendable {
    var index: Int
    var count: Int

    /// Parses `K/N` with 0 ≤ K < N.
    init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1, (0..<count).contains(index)
        else { return nil }
        self.index = index
        self.count = count
    }

    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    func contains(_ name: String) -> Bool { Self.fnv1a(name) % UInt64(count) == UInt64(index) }

    var description: String { "\(index)/\(count)" }
}

/// `183 B`, `12.4 KB`, `3.21 MB` (decimal units, as `ls -h --si` and file managers show).
func formatBytes(_ count: Int) -> String {
    if count < 1000 { return "\(count) B" }
    if count < 1_000_000 { return String(format: "%.1f KB", Double(count) / 1e3) }
    if count < 1_000_000_000 { return String(format: "%.2f MB", Double(count) / 1e6) }
    return String(format: "%.2f GB", Double(count) / 1e9)
}
