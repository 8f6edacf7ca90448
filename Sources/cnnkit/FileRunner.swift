import ArgumentParser
import CNNKit
import CNNKitImageIO
import Foundation

/// Runs one image operation over IN → OUT, where both are files or both are folders.
///
/// - File mode: IN is a `.png`/`.npy` file; OUT is a file (its extension picks the format) or an existing folder
///   (the output then keeps IN's file name). An error prints one line and exits with status 1.
/// - Folder mode: IN is a folder; every `.png` and `.npy` directly inside it is processed in name order and written
///   to OUT (created if missing) under the same name (`outputExtension` replaces the extension if set). A file that
///   fails is reported on one line and skipped; the others are still processed. A progress bar is drawn on stderr
///   when it is a terminal; a summary line ends the run; the status is 1 if any file failed.
///
/// Outputs are written atomically (temporary file, then rename), so a failure leaves no partial file.
struct FileRunner {
    var input: String
    var output: String
    var common: CommonOptions
    /// Forces the output extension (features always writes PNG), or nil to keep the input's.
    var outputExtension: String?

    /// The operation: the input file, what to write where; records its steps on the clock.
    typealias Operation = (_ image: ImageFile, _ inputPath: String, _ outputPath: String, _ clock: inout StepClock) throws -> Void

    func run(_ operation: Operation) throws {
        var isFolder: ObjCBool = false
        let inputExists = FileManager.default.fileExists(atPath: input, isDirectory: &isFolder)
        if inputExists && isFolder.boolValue {
            try runFolder(operation)
        } else {
            var destination = output
            var outputIsFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: output, isDirectory: &outputIsFolder), outputIsFolder.boolValue {
                destination = (output as NSString).appendingPathComponent(outputName(for: input))
            }
            do {
                try processOne(input, destination, operation)
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

    private func processOne(_ inputPath: String, _ outputPath: String, _ operation: Operation) throws {
        _ = try ImageFileFormat(path: outputPath)
        let resolved = { (path: String) in URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path }
        guard resolved(inputPath) != resolved(outputPath) else {
            throw CLIError("\(outputPath): the output would overwrite the input; choose another name or folder")
        }
        var clock = StepClock()
        let image = try clock.measure("read") { try ImageIO.read(inputPath) }
        for note in image.notes { Console.note(note) }
        try operation(image, inputPath, outputPath, &clock)
        if common.time {
            Console.clearProgress()
            print("\(inputPath): \(clock.summary)")
        }
    }

    private func runFolder(_ operation: Operation) throws {
        let inputURL = URL(fileURLWithPath: input).standardizedFileURL.resolvingSymlinksInPath()
        let outputURL = URL(fileURLWithPath: output).standardizedFileURL.resolvingSymlinksInPath()
        guard inputURL.path != outputURL.path else {
            throw CLIError("\(output): the output folder must differ from the input folder (outputs keep the input names)")
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: input)
                .filter { !$0.hasPrefix(".") && ImageFileFormat.isSupported($0) }
                .sorted()
        } catch {
            throw CLIError("\(input): cannot list the folder (\(error.localizedDescription))")
        }
        guard !names.isEmpty else { throw CLIError("\(input): no .png or .npy files in this folder") }
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
        let start = DispatchTime.now().uptimeNanoseconds
        var failed: [String] = []
        for (index, name) in names.enumerated() {
            Console.progress(index, of: names.count, name)
            let source = (input as NSString).appendingPathComponent(name)
            let destination = (output as NSString).appendingPathComponent(outputName(for: name))
            do {
                try processOne(source, destination, operation)
            } catch {
                Console.clearProgress()
                Console.error(describe(error, file: source) + " (skipped)")
                failed.append(name)
            }
        }
        Console.progress(names.count, of: names.count, "done")
        Console.clearProgress()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let written = names.count - failed.count
        print("cnnkit: \(written) of \(names.count) files written to \(output)"
              + (failed.isEmpty ? "" : ", \(failed.count) failed (\(failed.joined(separator: ", ")))")
              + " in \(formatDuration(seconds))")
        if !failed.isEmpty { throw ExitCode(1) }
    }
}
