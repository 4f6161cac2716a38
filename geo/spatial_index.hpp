#pragma once
// A static packed Hilbert R-tree (the Flatbush layout): built once from item boxes, then queried from any number
// of threads without locks because queries only read. Chosen over a grid because OA sizes vary ~1000x between
// city centres and rural areas, which no single grid cell size suits.

#include "geo/tile.hpp"

#include <cstdint>
#include <vector>

namespace smallarea::geo::detail {

class packed_rtree {
public:
    /// Builds the tree over boxes (item i = boxes[i]); any consistent unit. Replaces a previous build.
    void build(const std::vector<bbox>& boxes);

    /// Calls visit(item) for every item whose box intersects q (touching counts), in tree order.
    template <typename Visitor>
    void visit(const bbox& q, Visitor&& visit) const {
        if (m_num_items == 0) {
            return;
        }
        std::size_t node = m_boxes.size() - 1;
        std::size_t level = m_level_bounds.size() - 1;
        // The stack is tiny (depth * node_size at most) so a fixed array keeps queries allocation-free.
        std::size_t stack[node_size * 2 * 16]; // 16 levels of 16-way nodes cover any 32-bit item count
        std::size_t top = 0;
        for (;;) {
            const std::size_t end = std::min(node + node_size, m_level_bounds[level]);
            for (std::size_t pos = node; pos < end; ++pos) {
                const bbox& b = m_boxes[pos];
                if (b.max_x < q.min_x || b.max_y < q.min_y || b.min_x > q.max_x || b.min_y > q.max_y) {
                    continue;
                }
                if (node < m_num_items) {
                    visit(m_indices[pos]);
                } else {
                    stack[top++] = m_indices[pos];
                    stack[top++] = level - 1;
                }
            }
            if (top == 0) {
                break;
            }
            level = stack[--top];
            node = stack[--top];
        }
    }

    std::size_t memory_bytes() const noexcept {
        return m_boxes.capacity() * sizeof(bbox) + m_indices.capacity() * sizeof(std::uint32_t) +
               m_level_bounds.capacity() * sizeof(std::size_t);
    }

private:
    static constexpr std::size_t node_size = 16;

    std::vector<bbox> m_boxes;           // leaves (sorted by Hilbert value) then each level up to the root
    std::vector<std::uint32_t> m_indices; // leaf: item index; inner node: position of its first child
    std::vector<std::size_t> m_level_bounds; // end position of each level in m_boxes
    std::size_t m_num_items = 0;
};

} // namespace smallarea::geo::detail
