#include "geo/spatial_index.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

namespace smallarea::geo::detail {

namespace {

// Hilbert curve index of (x, y) on a 2^16 grid ("Fast Hilbert curve generation" by rawrunprotected, as used by
// Flatbush). Sorting leaves by it keeps nearby boxes in the same nodes, so inner boxes stay tight.
std::uint32_t hilbert(std::uint32_t x, std::uint32_t y) noexcept {
    std::uint32_t a = x ^ y;
    std::uint32_t b = 0xFFFF ^ a;
    std::uint32_t c = 0xFFFF ^ (x | y);
    std::uint32_t d = x & (y ^ 0xFFFF);

    std::uint32_t A = a | (b >> 1);
    std::uint32_t B = (a >> 1) ^ a;
    std::uint32_t C = ((c >> 1) ^ (b & (d >> 1))) ^ c;
    std::uint32_t D = ((a & (c >> 1)) ^ (d >> 1)) ^ d;

    a = A; b = B; c = C; d = D;
    A = (a & (a >> 2)) ^ (b & (b >> 2));
    B = (a & (b >> 2)) ^ (b & ((a ^ b) >> 2));
    C ^= (a & (c >> 2)) ^ (b & (d >> 2));
    D ^= (b & (c >> 2)) ^ ((a ^ b) & (d >> 2));

    a = A; b = B; c = C; d = D;
    A = (a & (a >> 4)) ^ (b & (b >> 4));
    B = (a & (b >> 4)) ^ (b & ((a ^ b) >> 4));
    C ^= (a & (c >> 4)) ^ (b & (d >> 4));
    D ^= (b & (c >> 4)) ^ ((a ^ b) & (d >> 4));

    a = A; b = B; c = C; d = D;
    C ^= (a & (c >> 8)) ^ (b & (d >> 8));
    D ^= (b & (c >> 8)) ^ ((a ^ b) & (d >> 8));

    a = C ^ (C >> 1);
    b = D ^ (D >> 1);

    std::uint32_t i0 = x ^ y;
    std::uint32_t i1 = b | (0xFFFF ^ (i0 | a));

    i0 = (i0 | (i0 << 8)) & 0x00FF00FF;
    i0 = (i0 | (i0 << 4)) & 0x0F0F0F0F;
    i0 = (i0 | (i0 << 2)) & 0x33333333;
    i0 = (i0 | (i0 << 1)) & 0x55555555;

    i1 = (i1 | (i1 << 8)) & 0x00FF00FF;
    i1 = (i1 | (i1 << 4)) & 0x0F0F0F0F;
    i1 = (i1 | (i1 << 2)) & 0x33333333;
    i1 = (i1 | (i1 << 1)) & 0x55555555;

    return (i1 << 1) | i0;
}

} // namespace

void packed_rtree::build(const std::vector<bbox>& boxes) {
    m_num_items = boxes.size();
    m_boxes.clear();
    m_indices.clear();
    m_level_bounds.clear();
    if (m_num_items == 0) {
        return;
    }

    bbox all{std::numeric_limits<double>::max(), std::numeric_limits<double>::max(),
             std::numeric_limits<double>::lowest(), std::numeric_limits<double>::lowest()};
    for (const bbox& b : boxes) {
        all.min_x = std::min(all.min_x, b.min_x);
        all.min_y = std::min(all.min_y, b.min_y);
        all.max_x = std::max(all.max_x, b.max_x);
        all.max_y = std::max(all.max_y, b.max_y);
    }
    const double w = all.max_x - all.min_x;
    const double h = all.max_y - all.min_y;
    std::vector<std::uint32_t> hv(m_num_items);
    for (std::size_t i = 0; i < m_num_items; ++i) {
        const bbox& b = boxes[i];
        const double cx = w > 0 ? ((b.min_x + b.max_x) / 2 - all.min_x) / w : 0.0;
        const double cy = h > 0 ? ((b.min_y + b.max_y) / 2 - all.min_y) / h : 0.0;
        hv[i] = hilbert(static_cast<std::uint32_t>(cx * 65535.0), static_cast<std::uint32_t>(cy * 65535.0));
    }
    std::vector<std::uint32_t> order(m_num_items);
    std::iota(order.begin(), order.end(), 0U);
    std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) { return hv[a] < hv[b]; });

    // Total nodes: sum over levels of ceil(n / node_size^k).
    std::size_t n = m_num_items;
    std::size_t total = n;
    do {
        n = (n + node_size - 1) / node_size;
        total += n;
    } while (n != 1);
    m_boxes.reserve(total);
    m_indices.reserve(total);

    for (std::uint32_t i : order) {
        m_boxes.push_back(boxes[i]);
        m_indices.push_back(i);
    }
    m_level_bounds.push_back(m_boxes.size());

    std::size_t level_start = 0;
    std::size_t level_end = m_boxes.size();
    while (level_end - level_start > 1) {
        for (std::size_t pos = level_start; pos < level_end; pos += node_size) {
            const std::size_t end = std::min(pos + node_size, level_end);
            bbox b = m_boxes[pos];
            for (std::size_t j = pos + 1; j < end; ++j) {
                b.min_x = std::min(b.min_x, m_boxes[j].min_x);
                b.min_y = std::min(b.min_y, m_boxes[j].min_y);
                b.max_x = std::max(b.max_x, m_boxes[j].max_x);
                b.max_y = std::max(b.max_y, m_boxes[j].max_y);
            }
            m_boxes.push_back(b);
            m_indices.push_back(static_cast<std::uint32_t>(pos));
        }
        level_start = level_end;
        level_end = m_boxes.size();
        m_level_bounds.push_back(level_end);
    }
}

} // namespace smallarea::geo::detail
