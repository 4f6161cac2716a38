#pragma once
// What the readers of one ingest share (data/ingest/readers.hpp): the store they write to, the cache of its
// areas (so a national lookup or dataset resolves codes without a query per row), the tallies that become the
// summary, and the release and time the datasets are stamped with.
//
// The one transaction is not here: ingest_manifest (data/ingest.cpp) holds it as an RAII object around every
// reader and commits only after the last one succeeded, so no reader can commit or roll back half an ingest.

#include "data/ingest.hpp"
#include "data/sqlite.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace smallarea::data::ingest {

class ingest_context {
public:
    /// Loads the store's existing areas into the cache (an ingest adds to what earlier ingests stored).
    ingest_context(database& db, const progress_callback& progress);

    database& db() { return m_db; }

    /// A progress line (the CLI prints them); nothing when no callback was given.
    void say(const std::string& line) const {
        if (m_progress) m_progress(line);
    }

    std::optional<std::int64_t> find_area(int vintage, const std::string& level, const std::string& code) const;
    /// The id of the area, inserted (without geometry) when new; a non-empty name fills an empty one.
    std::int64_t ensure_area(int vintage, const std::string& level, const std::string& code, const std::string& name);
    /// Records an area a reader inserted itself (boundaries insert with their geometry).
    /// The id for an area this ingest adds: handed out here (one past the largest id in the store), not read back
    /// from each INSERT, so writes need no answer per row (PostgreSQL pipelines them). Ingests hold the store's
    /// ingest lock, and nothing else adds areas, so no other writer takes the same ids.
    std::int64_t new_area_id() { return m_next_area_id++; }
    void remember_area(int vintage, const std::string& level, const std::string& code, std::int64_t id);
    /// Gives the area this name when it has none yet.
    void name_area(std::int64_t id, const std::string& name);
    /// The one area of level and vintage with this name (case-insensitive), for files that give names, not codes;
    /// nullopt when none has it. A name several areas share throws ingest_error at file/line with the candidates.
    std::optional<std::int64_t> area_by_name(const std::string& level, int vintage, const std::string& file, long line,
                                             const std::string& name);

    ingest_summary summary; ///< every reader adds its counts and notes here
    // Set by ingest_manifest just before the datasets are read: the release they become and their ingested_at.
    std::int64_t release = 0;
    std::string ingested_at;
    // Postcodes across the manifest's postcode files (data/ingest/postcodes.cpp): where each stored postcode was
    // read ("file line N"), so one given twice is refused naming both; and the vintages whose postcodes and place
    // names this ingest already replaced (the first file of a vintage clears the old ones, later files add).
    std::unordered_map<std::string, std::string> postcodes_seen;
    std::vector<int> postcode_vintages_replaced;

private:
    struct area_key {
        int vintage;
        std::string level;
        std::string code;
        bool operator==(const area_key& o) const { return vintage == o.vintage && level == o.level && code == o.code; }
    };
    struct area_key_hash {
        std::size_t operator()(const area_key& k) const {
            return std::hash<std::string>()(k.code) ^ (std::hash<std::string>()(k.level) << 1) ^
                   static_cast<std::size_t>(k.vintage);
        }
    };

    database& m_db;
    const progress_callback& m_progress;
    statement m_insert_area; // prepared once: lookups create hundreds of thousands of areas
    std::int64_t m_next_area_id = 1;
    statement m_name_area;
    std::unordered_map<area_key, std::int64_t, area_key_hash> m_areas;
    // level|vintage -> name -> (id, code) of every area with that name, for files that give names, not codes
    std::map<std::string, std::map<std::string, std::vector<std::pair<std::int64_t, std::string>>>> m_names;
};

} // namespace smallarea::data::ingest
