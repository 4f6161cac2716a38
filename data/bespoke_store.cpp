#include "data/bespoke_store.hpp"

#include <map>

namespace smallarea::data {

void insert_bespoke(database& db, const bespoke_record& b) {
    transaction t(db);
    statement area(db, "INSERT INTO bespoke_areas (id, name, level, vintage, owner, source, created_at, outline, "
                       "organisation_id, visibility, always_private) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    area.bind(1, b.id).bind(2, b.name).bind(3, b.level).bind(4, b.vintage).bind(5, b.owner).bind(6, b.source)
        .bind(7, b.created_at);
    if (b.outline.empty()) area.bind_null(8);
    else area.bind_blob(8, b.outline.data(), b.outline.size());
    // An always-private area is never stored as public, whatever the caller built.
    const bool is_public = b.is_public && !b.always_private;
    area.bind(9, b.organisation_id).bind(10, is_public ? "public" : "private").bind(11, b.always_private ? 1 : 0);
    area.run();
    statement member(db, "INSERT INTO bespoke_members (bespoke_id, area_id) VALUES (?, ?)");
    for (const auto id : b.members) {
        member.bind(1, b.id).bind(2, id);
        member.run();
    }
    t.commit();
}

namespace {

// One SELECT list and one row reader for every loader, so a single area and the list of areas cannot drift apart.
std::string select_areas(const database& db, bool with_outline) {
    // SQLite: AsBinary() is NULL for a blob that is not a SpatiaLite geometry: then the column already holds WKB.
    // PostgreSQL stores the outline as WKB (bytea) only.
    const char* outline = !with_outline ? "NULL" : db.is_postgresql() ? "b.outline" : "COALESCE(AsBinary(b.outline), b.outline)";
    return std::string("SELECT b.id, b.name, b.level, b.vintage, b.owner, b.source, b.created_at, ") + outline +
           ", b.organisation_id, b.visibility = 'public' AND b.always_private = 0, b.always_private, "
           "coalesce(o.name, '') FROM bespoke_areas b LEFT JOIN organisations o ON o.id = b.organisation_id";
}

bool readable(statement& s, const bespoke_reader& who) { return who.may_read(s.int64(9) != 0, s.optional_int64(8)); }

bespoke_record read_area(statement& s) {
    bespoke_record b;
    b.id = s.text(0);
    b.name = s.text(1);
    b.level = s.text(2);
    b.vintage = static_cast<int>(s.int64(3));
    b.owner = s.text(4);
    b.source = s.text(5);
    b.created_at = s.text(6);
    if (!s.is_null(7)) b.outline = std::string(s.blob(7));
    b.organisation_id = s.optional_int64(8);
    b.is_public = s.int64(9) != 0;
    b.always_private = s.int64(10) != 0;
    b.organisation = s.text(11);
    return b;
}

} // namespace

std::optional<bespoke_record> load_bespoke(database& db, const std::string& id, bool with_outline,
                                           const bespoke_reader& who, bool* hidden) {
    if (hidden) *hidden = false;
    statement s(db, select_areas(db, with_outline) + " WHERE b.id = ?");
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    if (!readable(s, who)) {
        if (hidden) *hidden = true;
        return std::nullopt;
    }
    auto b = read_area(s);
    statement m(db, "SELECT area_id FROM bespoke_members WHERE bespoke_id = ? ORDER BY area_id");
    m.bind(1, id);
    while (m.step()) b.members.push_back(m.int64(0));
    return b;
}

// Both filter with bespoke_reader::may_read, the one rule of who sees which area (never a second copy in SQL).
bool has_bespoke_areas(database& db, const bespoke_reader& who) {
    statement s(db, "SELECT organisation_id, visibility = 'public' AND always_private = 0 FROM bespoke_areas");
    while (s.step()) {
        if (who.may_read(s.int64(1) != 0, s.optional_int64(0))) return true;
    }
    return false;
}

std::vector<bespoke_record> load_bespoke_areas(database& db, const bespoke_reader& who) {
    std::vector<bespoke_record> out;
    std::map<std::string, std::size_t> index;
    {
        statement s(db, select_areas(db, true) + " ORDER BY b.id");
        while (s.step()) {
            if (!readable(s, who)) continue;
            index.emplace(s.text(0), out.size());
            out.push_back(read_area(s));
        }
    }
    statement m(db, "SELECT bespoke_id, area_id FROM bespoke_members ORDER BY bespoke_id, area_id");
    while (m.step()) {
        const auto it = index.find(m.text(0));
        if (it != index.end()) out[it->second].members.push_back(m.int64(1));
    }
    return out;
}

void set_bespoke_public(database& db, const std::string& id, bool is_public) {
    statement s(db, "UPDATE bespoke_areas SET visibility = ? WHERE id = ? AND (always_private = 0 OR ? = 'private')");
    const char* v = is_public ? "public" : "private";
    s.bind(1, v).bind(2, id).bind(3, v).run();
}

bool delete_bespoke(database& db, const std::string& id) {
    transaction t(db);
    statement members(db, "DELETE FROM bespoke_members WHERE bespoke_id = ?");
    members.bind(1, id);
    members.run();
    statement area(db, "DELETE FROM bespoke_areas WHERE id = ? RETURNING id");
    area.bind(1, id);
    const bool deleted = area.step();
    area.reset();
    t.commit();
    return deleted;
}

} // namespace smallarea::data
