#pragma once
// The hand-over between the two stages of a boundary ingest (data/ingest/boundaries.cpp): GDAL reading on one
// thread, GEOS repair and SQLite writes on another. Bounded, so a fast reader cannot hold a national file's
// features in memory while the writer catches up.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <utility>

namespace smallarea::data::ingest {

/// A small blocking queue between the reading and the writing stage of a boundary ingest. close() wakes both
/// sides: pop() then drains what is left and returns false; push() returns false.
template <typename T>
class bounded_queue {
public:
    explicit bounded_queue(std::size_t capacity) : m_capacity(capacity) {}
    bool push(T value) {
        std::unique_lock<std::mutex> lock(m_mutex);
        m_not_full.wait(lock, [&] { return m_closed || m_items.size() < m_capacity; });
        if (m_closed) return false;
        m_items.push_back(std::move(value));
        m_not_empty.notify_one();
        return true;
    }
    bool pop(T& out) {
        std::unique_lock<std::mutex> lock(m_mutex);
        m_not_empty.wait(lock, [&] { return m_closed || !m_items.empty(); });
        if (m_items.empty()) return false;
        out = std::move(m_items.front());
        m_items.pop_front();
        m_not_full.notify_one();
        return true;
    }
    void close() {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_closed = true;
        m_not_empty.notify_all();
        m_not_full.notify_all();
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_not_empty;
    std::condition_variable m_not_full;
    std::deque<T> m_items;
    std::size_t m_capacity;
    bool m_closed = false;
};

} // namespace smallarea::data::ingest
