import Foundation

/// The real photo shipped with the tool (`Sources/cnnkit/Resources/chelsea.png`, see the README next to it).
enum BundledPhoto {
    static let fileName = "chelsea.png"
    static let credit = "\"Chelsea\" the cat, 451x300 RGB; CC0, photographer Stefan van der Walt (scikit-image 0.26)"

    /// The photo's path: in the resource bundle next to the executable, else in the source tree this was built from.
    static func path() -> String? {
        var candidates: [String] = []
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            let folder = (executable as NSString).deletingLastPathComponent
            candidates.append("\(folder)/CNNKit_cnnkit.resources/Resources/\(fileName)")
            candidates.append("\(folder)/CNNKit_cnnkit.resources/\(fileName)")
        }
        if let executable = Bundle.main.executablePath {
            let folder = (executable as NSString).deletingLastPathComponent
            candidates.append("\(folder)/CNNKit_cnnkit.resources/Resources/\(fileName)")
        }
        let sourceFolder = (#filePath as NSString).deletingLastPathComponent
        candidates.append("\(sourceFolder)/Resources/\(fileName)")
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }
}
