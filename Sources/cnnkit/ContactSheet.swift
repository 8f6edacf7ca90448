import CNNKit

/// A labelled grid of feature maps, one tile per map, for a person to look at.
///
/// Layout (all in pixels, tiles of the maps' size W×H):
/// - `columns = min(M, 4)`, `rows = ceil(M / columns)`;
/// - label scale `s = clamp(W / 150, 1, 3)` (integer division); above each tile a black label band of height `9·s`
///   with the map's name in white 5×7 letters scaled by `s`;
/// - a gap of 4 between tiles and around the edge, background gray 0.2;
/// - sheet size `columns·W + (columns + 1)·4` × `rows·(H + 9·s) + (rows + 1)·4`.
/// Each tile is its map stretched to [0, 1] from its minimum to its 99.5th percentile, values above clamped (a few
/// very strong responses, such as the edge the zero padding makes at the image border, would otherwise leave the
/// rest of the map nearly black); a constant map is black.
enum ContactSheet {
    static let gap = 4
    static let background: Float = 0.2
    /// The percentile of a map that becomes white.
    static let whitePercentile = 0.995

    static func labelScale(tileWidth: Int) -> Int { min(3, max(1, tileWidth / 150)) }

    /// The sheet's (width, height) for `count` tiles of `tileWidth`×`tileHeight`.
    static func size(count: Int, tileWidth: Int, tileHeight: Int) -> (width: Int, height: Int) {
        let columns = min(count, 4), rows = (count + columns - 1) / columns
        let band = 9 * labelScale(tileWidth: tileWidth)
        return (columns * tileWidth + (columns + 1) * gap, rows * (tileHeight + band) + (rows + 1) * gap)
    }

    /// Lays out `maps` `[1, M, H, W]` with `labels` (M of them) as a gray image `[1, 1, height, width]` in [0, 1].
    static func make(maps: Tensor, labels: [String]) throws -> Tensor {
        let (count, tileHeight, tileWidth) = (maps.shape[1], maps.shape[2], maps.shape[3])
        precondition(labels.count == count, "one label per map")
        let (width, height) = size(count: count, tileWidth: tileWidth, tileHeight: tileHeight)
        let columns = min(count, 4), scale = labelScale(tileWidth: tileWidth), band = 9 * scale
        var pixels = [Float](repeating: background, count: width * height)
        let plane = tileHeight * tileWidth
        for map in 0..<count {
            let left = gap + (map % columns) * (tileWidth + gap)
            let top = gap + (map / columns) * (tileHeight + band + gap)
            for y in top..<top + band {
                for x in left..<left + tileWidth { pixels[y * width + x] = 0 }
            }
            BitmapFont.draw(
                labels[map], into: &pixels, width: width, x: left + 2 * scale, y: top + scale, scale: scale,
                maxX: left + tileWidth, value: 1)
            let values = maps.scalars[map * plane..<(map + 1) * plane]
            let (low, high) = stretchRange(values)
            let range = high - low
            for y in 0..<tileHeight {
                for x in 0..<tileWidth {
                    let value = values[values.startIndex + y * tileWidth + x]
                    let stretched = range > 0 && value.isFinite ? min(1, max(0, (value - low) / range)) : 0
                    pixels[(top + band + y) * width + left + x] = stretched
                }
            }
        }
        return try Tensor(shape: [1, 1, height, width], scalars: pixels)
    }

    /// The minimum and the ``whitePercentile`` of the finite values (the maximum if that equals the minimum).
    static func stretchRange(_ values: ArraySlice<Float>) -> (low: Float, high: Float) {
        let sorted = values.filter(\.isFinite).sorted()
        guard let low = sorted.first, let highest = sorted.last else { return (0, 0) }
        let high = sorted[Int((Double(sorted.count - 1) * whitePercentile).rounded(.down))]
        return (low, high > low ? high : highest)
    }
}
