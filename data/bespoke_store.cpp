#include "data/bespoke_store.hpp"

namespace smallarea::data {

void insert_bespoke(database& db, const bespoke_record& b) {
    transaction t(db);
    statement area(db, "INSERT INTO bespoke_areas (id, name, level, vintage, owner, source, created_at, outline) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    area.bind(1, b.id).bind(2, b.name).bind(3, b.level).bind(4, b.vintage).bind(5, b.owner).bind(6, b.source)
        .bind(7, b.created_at);
    if (b.outline.empty()) area.bind_null(8);
    else area.bind_blob(8, b.outline.data(), b.outline.size());
    area.run();
    statement member(db, "INSERT INTO bespoke_members (bespoke_id, area_id) VALUES (?, ?)");
    for (const auto id : b.members) {
        member.bind(1, b.id).bind(2, id);
        member.run();
    }
    t.commit();
}

std::optional<bespoke_record> load_bespoke(database& db, const std::string& id, bool with_outline) {
    statement s(db, std::string("SELECT id, name, level, vintage, owner, source, created_at, ") +
                        (with_outline ? "outline" : "NULL") + " FROM bespoke_areas WHERE id = ?");
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    bespoke_record b;
    b.id = s.text(0);
    b.name = s.text(1);
    b.level = s.text(2);
    b.vintage = static_cast<int>(s.int64(3));
    b.owner = s.text(4);
    b.source = s.text(5);
    b.created_at = s.text(6);
    if (!s.is_null(7)) b.outline = std::string(s.blob(7));
    statement m(db, "SELECT area_id FROM bespoke_members WHERE bespoke_id = ? ORDER BY area_id");
    m.bind(1, id);
    while (m.step()) b.members.push_back(m.int64(0));
    return b;
}

bool delete_bespoke(database& db, const std::string& id) {
    transaction t(db);
    statement members(db, "DELETE FROM bespoke_members WHERE bespoke_id = ?");
    members.bind(1, id);
    members.run();
    statement area(db, "DELETE FROM bespoke_areas WHERE id = ?");
    area.bind(1, id);
    area.run();
    const bool deleted = db.changes() > 0;
    t.commit();
    return deleted;
}

} // namespace smallarea::data
