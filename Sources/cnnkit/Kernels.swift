import CNNKit
import CNNKitImageIO
import Foundation

/// A 2-D filter kernel `[height, width]` in C order, as CNNKit cross-correlates it.
struct Kernel2D: Sendable {
    var label: String
    var height: Int
    var width: Int
    var values: [Float]

    init(_ label: String, _ rows: [[Float]]) {
        self.label = label
        self.height = rows.count
        self.width = rows.first?.count ?? 0
        self.values = rows.flatMap { $0 }
    }

    init(label: String, height: Int, width: Int, values: [Float]) {
        self.label = label
        self.height = height
        self.width = width
        self.values = values
    }

    /// This kernel centred in a larger zero kernel (so kernels of several sizes fit one convolution layer).
    func padded(toHeight newHeight: Int, width newWidth: Int) -> Kernel2D {
        var out = [Float](repeating: 0, count: newHeight * newWidth)
        let top = (newHeight - height) / 2, left = (newWidth - width) / 2
        for y in 0..<height {
            for x in 0..<width { out[(top + y) * newWidth + left + x] = values[y * width + x] }
        }
        return Kernel2D(label: label, height: newHeight, width: newWidth, values: out)
    }
}

/// What `--kernel` asks `filter` to compute.
enum FilterSpec: Sendable {
    /// One 2-D kernel applied to every channel (depthwise, group = C).
    case perChannel(Kernel2D)
    /// Sobel gradient magnitude `sqrt(gx² + gy²)` per channel.
    case sobelMagnitude
    /// A full convolution layer `[M, C, kH, kW]` from a `.npy` file.
    case layer(Tensor, path: String)

    var label: String {
        switch self {
        case .perChannel(let kernel): return kernel.label
        case .sobelMagnitude: return "sobel"
        case .layer(_, let path): return (path as NSString).lastPathComponent
        }
    }
}

/// The built-in kernels and the `--kernel` / `--kernels` grammar.
enum Kernels {
    /// Help text listing every built-in kernel.
    static let grammar = """
        sobel-x, sobel-y, sobel (gradient magnitude), laplacian, gaussian:SIGMA (size 2*ceil(3*SIGMA)+1, \
        normalised), box:K, sharpen, emboss, gabor:DEGREES (oriented edge kernel), or FILE.npy ([kH,kW] for every \
        channel, or [M,C,kH,kW] as a full convolution layer)
        """

    static let sobelX = Kernel2D("sobel-x", [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    static let sobelY = Kernel2D("sobel-y", [[-1, -2, -1], [0, 0, 0], [1, 2, 1]])
    static let laplacian = Kernel2D("laplacian", [[0, 1, 0], [1, -4, 1], [0, 1, 0]])
    static let sharpen = Kernel2D("sharpen", [[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
    static let emboss = Kernel2D("emboss", [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]])

    /// The default bank of `features`: Sobel x and y, Laplacian, Gaussian σ = 1.5 and four oriented edge kernels.
    static let defaultFeatureBank = "sobel-x,sobel-y,laplacian,gaussian:1.5,gabor:0,gabor:45,gabor:90,gabor:135"

    /// A normalised Gaussian of standard deviation `sigma`, size `2·ceil(3σ) + 1`.
    static func gaussian(sigma: Double, label: String) -> Kernel2D {
        let radius = Int((3 * sigma).rounded(.up))
        let size = 2 * radius + 1
        var values = [Float](repeating: 0, count: size * size)
        var total = 0.0
        var weights = [Double](repeating: 0, count: size * size)
        for y in 0..<size {
            for x in 0..<size {
                let dy = Double(y - radius), dx = Double(x - radius)
                let weight = exp(-(dx * dx + dy * dy) / (2 * sigma * sigma))
                weights[y * size + x] = weight
                total += weight
            }
        }
        for i in values.indices { values[i] = Float(weights[i] / total) }
        return Kernel2D(label: label, height: size, width: size, values: values)
    }

    /// An odd-phase Gabor kernel (9×9, σ = 2, wavelength 8, aspect 0.6) that responds to intensity rising along
    /// the direction `degrees` (0 = left to right, 90 = top to bottom in image rows), scaled so that its positive
    /// taps sum to 1. Antisymmetric, so its taps sum to 0.
    static func gabor(degrees: Double, label: String) -> Kernel2D {
        let radius = 4, size = 9
        let theta = degrees * .pi / 180
        let sigma = 2.0, wavelength = 8.0, aspect = 0.6
        var weights = [Double](repeating: 0, count: size * size)
        for y in 0..<size {
            for x in 0..<size {
                let dx = Double(x - radius), dy = Double(y - radius)
                let along = dx * cos(theta) + dy * sin(theta)
                let across = -dx * sin(theta) + dy * cos(theta)
                let envelope = exp(-(along * along + aspect * aspect * across * across) / (2 * sigma * sigma))
                weights[y * size + x] = envelope * sin(2 * .pi * along / wavelength)
            }
        }
        let positive = weights.filter { $0 > 0 }.reduce(0, +)
        return Kernel2D(label: label, height: size, width: size, values: weights.map { Float($0 / positive) })
    }

    /// Parses one kernel name (not a `.npy` file and not `sobel`).
    /// - Throws: ``CLIError`` naming the option and the bad value.
    static func builtin(_ name: String, option: String) throws(CLIError) -> Kernel2D {
        let lower = name.lowercased()
        switch lower {
        case "sobel-x": return sobelX
        case "sobel-y": return sobelY
        case "laplacian": return laplacian
        case "sharpen": return sharpen
        case "emboss": return emboss
        default: break
        }
        let parts = lower.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2 else {
            throw CLIError("\(option) \(name): unknown kernel; expected one of \(grammar)")
        }
        switch parts[0] {
        case "gaussian":
            guard let sigma = Double(parts[1]), sigma.isFinite, sigma > 0, sigma <= 50 else {
                throw CLIError("\(option) \(name): expected gaussian:SIGMA with 0 < SIGMA <= 50")
            }
            return gaussian(sigma: sigma, label: lower)
        case "box":
            guard let size = Int(parts[1]), (1...255).contains(size) else {
                throw CLIError("\(option) \(name): expected box:K with 1 <= K <= 255")
            }
            let weight = 1 / Float(size * size)
            return Kernel2D(label: lower, height: size, width: size, values: Array(repeating: weight, count: size * size))
        case "gabor":
            guard let degrees = Double(parts[1]), degrees.isFinite else {
                throw CLIError("\(option) \(name): expected gabor:DEGREES with a finite angle")
            }
            return gabor(degrees: degrees, label: lower)
        default:
            throw CLIError("\(option) \(name): unknown kernel; expected one of \(grammar)")
        }
    }

    /// Parses `filter --kernel`.
    /// - Throws: ``CLIError`` for an unknown name, or one naming the `.npy` file for a missing or wrongly shaped kernel.
    static func filterSpec(_ text: String) throws(CLIError) -> FilterSpec {
        if text.lowercased() == "sobel" { return .sobelMagnitude }
        if text.lowercased().hasSuffix(".npy") {
            let tensor = try readKernelFile(text)
            switch tensor.rank {
            case 2:
                return .perChannel(Kernel2D(
                    label: (text as NSString).lastPathComponent, height: tensor.shape[0], width: tensor.shape[1],
                    values: tensor.scalars))
            default:
                return .layer(tensor, path: text)
            }
        }
        return .perChannel(try builtin(text, option: "--kernel"))
    }

    /// Parses `features --kernels` (comma-separated; built-in names and `[kH,kW]` `.npy` files).
    static func featureBank(_ list: String) throws(CLIError) -> [Kernel2D] {
        let items = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !items.isEmpty else { throw CLIError("--kernels \"\(list)\": expected a comma-separated list of kernels") }
        var bank: [Kernel2D] = []
        for item in items {
            if item.lowercased() == "sobel" {
                throw CLIError("--kernels sobel: the gradient magnitude is not one kernel; list sobel-x,sobel-y instead")
            }
            if item.lowercased().hasSuffix(".npy") {
                let tensor = try readKernelFile(item)
                guard tensor.rank == 2 else {
                    throw CLIError("\(item): kernel shape \(tensor.shape); expected [kH, kW] in a --kernels list")
                }
                bank.append(Kernel2D(
                    label: ((item as NSString).lastPathComponent as NSString).deletingPathExtension,
                    height: tensor.shape[0], width: tensor.shape[1], values: tensor.scalars))
            } else {
                bank.append(try builtin(item, option: "--kernels"))
            }
        }
        return bank
    }

    /// Reads a float32 kernel `.npy` of shape `[kH, kW]` or `[M, C, kH, kW]` with non-zero extents.
    static func readKernelFile(_ path: String) throws(CLIError) -> Tensor {
        let data: Data
        try requireRegularFile(path)
        do { data = try ImageIO.readData(path) } catch { throw CLIError("\(path): kernel file: \(error.problem)") }
        let tensor: Tensor
        do { tensor = try Tensor(npyData: data) } catch let error as CNNKitError {
            throw CLIError("\(path): kernel file is not a float32 .npy array (\(error.value); expected \(error.expected))")
        } catch {
            throw CLIError("\(path): kernel file is not a float32 .npy array")
        }
        guard tensor.rank == 2 || tensor.rank == 4, !tensor.shape.contains(0) else {
            throw CLIError("\(path): kernel shape \(tensor.shape); expected [kH, kW] or [M, C, kH, kW] with non-zero extents")
        }
        return tensor
    }
}
