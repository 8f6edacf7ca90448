/// An image or array file that could not be read or written.
///
/// ``description`` is one line that names the file first, then the problem, e.g.
/// `photo.png: truncated or corrupt PNG (unexpected end of data (the file is truncated))`.
public struct ImageIOError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem this is.
    public enum Kind: String, Sendable, Hashable {
        /// The file does not exist.
        case missingFile
        /// The file exists but could not be read (permissions, a folder, an I/O error).
        case unreadable
        /// The file is not in the format its extension says (not a PNG, not a JPEG, not an `.npy` array).
        case notRecognised
        /// The file is truncated or its contents are inconsistent.
        case corrupt
        /// A valid file this reader does not handle (PNG bit depth 1/2/4, a CMYK JPEG, an `.npy` of another rank or
        /// dtype).
        case unsupported
        /// The tensor cannot be stored in the requested format (e.g. 5 channels as PNG).
        case unrepresentable
        /// The output could not be written (missing or read-only folder, disk full).
        case unwritable
        /// The file extension is not `.png`, `.jpg`, `.jpeg` or `.npy`.
        case unknownFormat
    }

    /// What kind of problem this is.
    public var kind: Kind
    /// The file at fault, as the user named it.
    public var path: String
    /// What went wrong, in a few words.
    public var problem: String

    /// An error about the file at `path`.
    public init(_ kind: Kind, path: String, problem: String) {
        self.kind = kind
        self.path = path
        self.problem = problem
    }

    /// `path: problem`, one line.
    public var description: String { "\(path): \(problem)" }
}
