#include "data/ingest/context.hpp"

#include "core/error.hpp"
#include "data/text.hpp"

#include <algorithm>

namespace smallarea::data::ingest {

using text::lower;

ingest_context::ingest_context(database& db, const progress_callback& progress)
    : m_db(db), m_progress(progress),
      m_insert_area(db, "INSERT INTO areas (id, level, vintage, code, name) VALUES (?, ?, ?, ?, ?)"),
      m_name_area(db, "UPDATE areas SET name = ? WHERE id = ? AND name = ''") {
    statement s(m_db, "SELECT id, vintage, level, code FROM areas");
    while (s.step()) {
        m_areas.emplace(area_key{static_cast<int>(s.int64(1)), s.text(2), s.text(3)}, s.int64(0));
        m_next_area_id = std::max(m_next_area_id, s.int64(0) + 1);
    }
}

std::optional<std::int64_t> ingest_context::find_area(int vintage, const std::string& level,
                                                      const std::string& code) const {
    const auto it = m_areas.find(area_key{vintage, level, code});
    if (it == m_areas.end()) return std::nullopt;
    return it->second;
}

std::int64_t ingest_context::ensure_area(int vintage, const std::string& level, const std::string& code,
                                         const std::string& name) {
    if (auto id = find_area(vintage, level, code)) {
        if (!name.empty()) m_name_area.bind(1, name).bind(2, *id).run();
        return *id;
    }
    const auto id = new_area_id();
    m_insert_area.bind(1, id).bind(2, level).bind(3, vintage).bind(4, code).bind(5, name).run();
    m_areas.emplace(area_key{vintage, level, code}, id);
    return id;
}

void ingest_context::remember_area(int vintage, const std::string& level, const std::string& code, std::int64_t id) {
    m_areas.emplace(area_key{vintage, level, code}, id);
}

void ingest_context::name_area(std::int64_t id, const std::string& name) { m_name_area.bind(1, name).bind(2, id).run(); }

std::optional<std::int64_t> ingest_context::area_by_name(const std::string& level, int vintage, const std::string& file,
                                                         long line, const std::string& name) {
    auto& names = m_names[level + "|" + std::to_string(vintage)];
    if (names.empty()) {
        statement s(m_db, "SELECT id, code, name FROM areas WHERE level = ? AND vintage = ? AND name <> ''");
        s.bind(1, level).bind(2, vintage);
        while (s.step()) names[lower(s.text(2))].emplace_back(s.int64(0), s.text(1));
    }
    const auto it = names.find(lower(name));
    if (it == names.end()) return std::nullopt;
    if (it->second.size() > 1) {
        std::string candidates;
        for (const auto& [id, code] : it->second) candidates += (candidates.empty() ? "" : ", ") + code;
        throw ingest_error(file, line, "area name \"" + name + "\" is ambiguous among " + level + " " +
                                           std::to_string(vintage) + " areas (candidates: " + candidates +
                                           "); use a file with codes");
    }
    return it->second.front().first;
}

} // namespace smallarea::data::ingest
