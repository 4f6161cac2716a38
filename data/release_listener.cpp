#include "data/release_listener.hpp"

#include "data/postgres.hpp"

#include <sys/select.h>

#include <algorithm>
#include <chrono>

namespace smallarea::data {

release_listener::release_listener(std::string url, std::function<void()> on_release)
    : m_url(std::move(url)), m_on_release(std::move(on_release)) {
    m_thread = std::thread([this] { run(); });
}

release_listener::~release_listener() {
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    if (m_thread.joinable()) m_thread.join();
}

bool release_listener::pause(int ms) {
    std::unique_lock<std::mutex> lock(m_mutex);
    return !m_wake.wait_for(lock, std::chrono::milliseconds(ms), [this] { return m_stop; });
}

void release_listener::run() {
    int backoff_ms = 100;
    bool first = true;
    while (true) {
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            if (m_stop) return;
        }
        PGconn* c = pg_open(m_url, "smallarea-listener");
        PGresult* r = c && PQstatus(c) == CONNECTION_OK ? PQexec(c, "LISTEN smallarea_release") : nullptr;
        const bool listening = r && PQresultStatus(r) == PGRES_COMMAND_OK;
        if (r) PQclear(r);
        if (!listening) {
            if (c) PQfinish(c);
            if (!pause(backoff_ms)) return;
            backoff_ms = std::min(backoff_ms * 2, 5000);
            continue;
        }
        backoff_ms = 100;
        if (!first) m_reconnections.fetch_add(1);
        first = false;
        m_connected.store(true);
        m_on_release(); // catch up: a release may have landed while this replica was not listening
        bool lost = false;
        while (!lost) {
            {
                std::lock_guard<std::mutex> lock(m_mutex);
                if (m_stop) break;
            }
            const int socket = PQsocket(c);
            if (socket < 0) {
                lost = true;
                break;
            }
            fd_set readable;
            FD_ZERO(&readable);
            FD_SET(socket, &readable);
            timeval timeout{0, 500 * 1000}; // wakes twice a second to notice a stop
            const int ready = select(socket + 1, &readable, nullptr, nullptr, &timeout);
            if (ready < 0) continue; // EINTR
            if (ready == 0) continue;
            if (!PQconsumeInput(c) || PQstatus(c) != CONNECTION_OK) {
                lost = true;
                break;
            }
            bool any = false;
            while (PGnotify* n = PQnotifies(c)) {
                any = true;
                m_notifications.fetch_add(1);
                PQfreemem(n);
            }
            if (any) m_on_release(); // several releases at once: one reload reaches the newest
        }
        m_connected.store(false);
        PQfinish(c);
        if (!lost) return; // stopped
    }
}

} // namespace smallarea::data
