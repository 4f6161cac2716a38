#pragma once
// Tells a server that another process committed a release to a shared PostgreSQL store: LISTEN smallarea_release
// on a connection of its own (each ingest NOTIFYs in its transaction, delivered at commit). A lost connection is
// re-made with back-off (100 ms doubling to 5 s); on every (re)connection the callback runs once too, since a
// release may have been committed while nobody listened. No libpq in this header: the server links data only.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace smallarea::data {

class release_listener {
public:
    /// Starts listening at once (on its own thread). `on_release` runs on that thread and must not throw.
    release_listener(std::string url, std::function<void()> on_release);
    /// Stops the thread (within ~0.5 s) and closes the connection.
    ~release_listener();
    release_listener(const release_listener&) = delete;
    release_listener& operator=(const release_listener&) = delete;

    bool connected() const noexcept { return m_connected.load(); }
    /// Notifications received since start (reconnections not counted).
    std::int64_t notifications() const noexcept { return m_notifications.load(); }
    /// Connections made after the first (each a lost connection re-made).
    std::int64_t reconnections() const noexcept { return m_reconnections.load(); }

private:
    void run();
    /// Sleeps up to `ms` unless stopped meanwhile; false when stopped.
    bool pause(int ms);

    std::string m_url;
    std::function<void()> m_on_release;
    std::atomic<bool> m_connected{false};
    std::atomic<std::int64_t> m_notifications{0};
    std::atomic<std::int64_t> m_reconnections{0};
    std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_stop = false;
    std::thread m_thread;
};

} // namespace smallarea::data
