#include "engine/bespoke.hpp"

#include "core/error.hpp"
#include "data/access_store.hpp"
#include "data/ogc_queries.hpp"
#include "geo/bespoke_geometry.hpp"
#include "geo/geojson.hpp"
#include "geo/spatial_index.hpp"

#include <algorithm>
#include <cctype>
#include <random>

namespace smallarea::engine {

using nlohmann::json;

namespace {

std::string random_text(std::size_t n, const char* alphabet, std::size_t alphabet_size) {
    // std::random_device reads the kernel's CSPRNG on Linux (getrandom / /dev/urandom).
    std::random_device rd;
    std::uniform_int_distribution<std::size_t> pick(0, alphabet_size - 1);
    std::string out;
    for (std::size_t i = 0; i < n; ++i) out += alphabet[pick(rd)];
    return out;
}

std::optional<std::int64_t> households_of(const data::area& a) {
    const auto it = a.denominators.find("households");
    if (it == a.denominators.end()) return std::nullopt;
    return it->second;
}

json households_json(const data::area& a) {
    const auto h = households_of(a);
    return h ? json(*h) : json(nullptr);
}

std::vector<std::int64_t> store_ids(const snapshot& s, const std::vector<std::size_t>& members) {
    std::vector<std::int64_t> ids;
    ids.reserve(members.size());
    for (const auto m : members) ids.push_back(s.areas()[m].id);
    return ids;
}

void check_member_count(std::size_t given, std::size_t max_members) {
    if (given > max_members) {
        throw bad_request("TooManyMembers", "a bespoke area has at most " + std::to_string(max_members) + " members (" +
                                                std::to_string(given) + " given)");
    }
}

} // namespace

bespoke_area resolve_members(const snapshot& s, data::bespoke_record record) {
    bespoke_area b;
    b.record = std::move(record);
    for (const auto area_id : b.record.members) {
        if (const auto i = s.find_area_by_id(area_id)) b.members.push_back(*i);
    }
    std::sort(b.members.begin(), b.members.end(),
              [&](std::size_t x, std::size_t y) { return s.areas()[x].code < s.areas()[y].code; });
    return b;
}

bool well_formed_bespoke_id(const std::string& id) {
    return !id.empty() && id.size() <= 32 &&
           std::all_of(id.begin(), id.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'); });
}

std::optional<data::bespoke_record> find_bespoke(data::database& db, const std::string& id, bool with_outline,
                                                 const data::bespoke_reader& who, bool* hidden) {
    if (hidden) *hidden = false;
    if (!well_formed_bespoke_id(id)) return std::nullopt;
    return data::load_bespoke(db, id, with_outline, who, hidden);
}

not_found unknown_bespoke(const std::string& id) {
    return not_found("UnknownBespoke", "no bespoke area \"" + id.substr(0, 40) + "\"");
}

std::vector<bespoke_area> load_bespoke_areas(const snapshot& s, data::database& db, const std::vector<std::string>& ids,
                                             bool with_outline, const data::bespoke_reader& who) {
    std::vector<bespoke_area> out;
    out.reserve(ids.size());
    for (const auto& id : ids) {
        auto r = find_bespoke(db, id, with_outline, who);
        if (!r) throw unknown_bespoke(id);
        out.push_back(resolve_members(s, std::move(*r)));
    }
    return out;
}

bool bespoke_fits(const bespoke_area& b, const data::dataset_info& d) {
    return !b.members.empty() && b.record.vintage == d.vintage && data::nests_in(d.level, b.record.level);
}

std::string dissolve_areas(data::database& db, const snapshot& s, const std::vector<std::size_t>& members) {
    const auto geometries = data::load_geometry_map(db, store_ids(s, members));
    std::vector<std::string_view> views;
    views.reserve(geometries.size());
    for (const auto& [id, wkb] : geometries) views.emplace_back(wkb);
    return geo::dissolve_wkb(views);
}

std::string bespoke_outline(data::database& db, const snapshot& s, const bespoke_area& b) {
    if (!b.record.outline.empty()) return b.record.outline;
    if (b.members.empty()) return {};
    return dissolve_areas(db, s, b.members);
}

void add_bespoke_groups(table_query& q, const std::vector<const bespoke_area*>& areas) {
    for (const auto* b : areas) q.groups.emplace_back(b->record.id, b->members);
}

std::string new_bespoke_id() { return random_text(10, "abcdefghijklmnopqrstuvwxyz234567", 32); }

std::string new_owner_token() { return random_text(64, "0123456789abcdef", 16); }

data::bespoke_record prepare_bespoke(data::database& db, const snapshot& s, const bespoke_draft& draft, std::size_t max_members,
                                     const std::string& owner_hash, const bespoke_ownership& ownership) {
    auto members = draft.members;
    std::sort(members.begin(), members.end());
    members.erase(std::unique(members.begin(), members.end()), members.end());
    if (members.empty()) throw bad_request("EmptySelection", "a bespoke area needs at least one member area");
    check_member_count(members.size(), max_members);
    const auto& first = s.areas()[members.front()];
    data::bespoke_record r;
    r.name = draft.name;
    r.level = first.level;
    r.vintage = first.vintage;
    for (const auto m : members) {
        const auto& a = s.areas()[m];
        if (a.level != r.level || a.vintage != r.vintage) {
            throw bad_request("MixedLevels", "members must share one level and vintage: " + first.code + " is " +
                                                 first.level + " " + std::to_string(first.vintage) + ", " + a.code +
                                                 " is " + a.level + " " + std::to_string(a.vintage));
        }
        r.members.push_back(a.id);
    }
    std::sort(r.members.begin(), r.members.end());
    r.id = new_bespoke_id();
    r.owner = owner_hash;
    r.organisation_id = ownership.organisation;
    r.always_private = ownership.always_private;
    r.is_public = ownership.is_public && !ownership.always_private;
    r.source = draft.source;
    r.created_at = data::utc_now();
    r.outline = dissolve_areas(db, s, members);
    return r;
}

std::vector<std::size_t> members_from_codes(const snapshot& s, const std::string& level, int vintage,
                                            const std::vector<std::string>& codes, std::size_t max_members) {
    check_member_count(codes.size(), max_members);
    std::vector<std::size_t> members;
    std::vector<std::string> unknown;
    for (const auto& code : codes) {
        const auto i = s.find_area(code, vintage);
        if (!i) {
            unknown.push_back(code.substr(0, 20));
            continue;
        }
        const auto& a = s.areas()[*i];
        if (a.level != level || a.vintage != vintage) {
            throw bad_request("MixedLevels", "area " + a.code + " is " + a.level + " " + std::to_string(a.vintage) +
                                                 "; this bespoke area is " + level + " " + std::to_string(vintage));
        }
        members.push_back(*i);
    }
    if (!unknown.empty()) {
        std::string list;
        for (std::size_t k = 0; k < unknown.size() && k < 10; ++k) list += (k ? ", " : "") + unknown[k];
        throw bad_request("UnknownCodes", std::to_string(unknown.size()) + " unknown " + level + " " + std::to_string(vintage) +
                                              " code(s): " + list + (unknown.size() > 10 ? ", ..." : ""));
    }
    return members;
}

std::vector<std::size_t> members_in_polygon(data::database& db, const snapshot& s, const std::string& level, int vintage,
                                            const std::string& geojson_geometry) {
    const std::string polygon = geo::parse_drawn_polygon(geojson_geometry);
    const auto box = geo::wkb_bounds(polygon);
    const auto& layer = s.layer(level, vintage);
    std::vector<std::int64_t> ids;
    for (const auto c : geo::query_bbox(layer.polygons, geo::bbox{box.minx, box.miny, box.maxx, box.maxy})) {
        ids.push_back(s.areas()[layer.area_index[c]].id);
    }
    // The test uses the stored (exact, unprojected) boundaries, not the tile layer's simplified ones.
    const auto geometries = data::load_geometry_map(db, ids);
    std::vector<std::int64_t> found;
    std::vector<std::string_view> views;
    for (const auto id : ids) {
        if (const auto g = geometries.find(id); g != geometries.end()) {
            found.push_back(id);
            views.emplace_back(g->second);
        }
    }
    const auto inside = geo::point_on_surface_inside(polygon, views);
    std::vector<std::size_t> members;
    for (std::size_t i = 0; i < inside.size(); ++i) {
        if (inside[i]) members.push_back(*s.find_area_by_id(found[i]));
    }
    if (members.empty()) throw bad_request("EmptySelection", "no " + level + " area has its point on surface inside the polygon");
    return members;
}

json geometry_json(const std::string& wkb) {
    if (wkb.empty()) return nullptr;
    std::string text;
    geo::append_geojson_geometry(text, reinterpret_cast<const unsigned char*>(wkb.data()), wkb.size());
    return json::parse(text);
}

json bespoke_json(const snapshot& s, const bespoke_area& b, bool with_members, bool owner_view) {
    // Unknown is never 0 (rule 8): the sum over members with a Census count, null when none has one.
    std::optional<std::int64_t> households;
    std::size_t with_households = 0;
    json members = json::array();
    for (const auto m : b.members) {
        const auto& a = s.areas()[m];
        if (const auto h = households_of(a)) {
            households = households.value_or(0) + *h;
            ++with_households;
        }
        if (with_members) members.push_back(json{{"code", a.code}, {"name", a.name}, {"households", households_json(a)}});
    }
    json bbox = nullptr;
    if (!b.record.outline.empty()) {
        const auto box = geo::wkb_bounds(b.record.outline);
        bbox = json::array({box.minx, box.miny, box.maxx, box.maxy});
    }
    json out{{"id", b.record.id}, {"name", b.record.name}, {"level", b.record.level}, {"vintage", b.record.vintage},
             {"source", b.record.source}, {"created_at", b.record.created_at}, {"member_count", b.members.size()},
             {"households", households ? json(*households) : json(nullptr)},
             {"households_complete", with_households == b.members.size()},
             {"members_with_households", with_households}, {"bbox", bbox}, {"url", "/api/bespoke/" + b.record.id},
             {"geojson", "/api/bespoke/" + b.record.id + ".geojson"},
             {"visibility", b.record.is_public ? "public" : "private"}};
    if (owner_view) {
        // Who owns an area is the owner's business only: a public area does not name its organisation.
        out["organisation"] = b.record.organisation.empty() ? json(nullptr) : json(b.record.organisation);
        out["publishable"] = !b.record.always_private && b.record.organisation_id.has_value();
    }
    if (with_members) out["members"] = std::move(members);
    return out;
}

json bespoke_geojson(data::database& db, const snapshot& s, const bespoke_area& b, bool with_members) {
    const json meta = bespoke_json(s, b, false, false);
    json outline{{"type", "Feature"}, {"id", b.record.id}, {"geometry", geometry_json(b.record.outline)},
                 {"properties", json{{"id", b.record.id}, {"name", b.record.name}, {"role", "outline"},
                                     {"level", b.record.level}, {"vintage", b.record.vintage},
                                     {"member_count", meta["member_count"]}, {"households", meta["households"]},
                                     {"visibility", meta["visibility"]}}}};
    if (!with_members) return outline;
    json features = json::array({outline});
    const auto geometries = data::load_geometry_map(db, store_ids(s, b.members));
    for (const auto m : b.members) {
        const auto& a = s.areas()[m];
        const auto g = geometries.find(a.id);
        const std::string wkb = g == geometries.end() ? std::string() : g->second;
        features.push_back(json{{"type", "Feature"}, {"id", a.code}, {"geometry", geometry_json(wkb)},
                                {"properties", json{{"code", a.code}, {"name", a.name}, {"role", "member"},
                                                    {"households", households_json(a)}}}});
    }
    return json{{"type", "FeatureCollection"}, {"features", std::move(features)}};
}

void check_may_publish(const data::bespoke_record& record, bool caller_owns, bool want_public) {
    if (!caller_owns) {
        throw forbidden("NotOwner", record.organisation_id
                                        ? "only the organisation that owns bespoke area " + record.id + " can change it"
                                        : "bespoke area " + record.id + " was made without a key: it is public and "
                                          "has no organisation (delete it with X-Owner-Token)");
    }
    if (want_public && record.always_private) {
        throw disclosure_refused("AlwaysPrivate", "bespoke area " + record.id + " is " +
                                                      (record.source == "zones" ? "a zone" : "derived from internal MI") +
                                                      ": it stays private to " + record.organisation);
    }
}

void check_may_delete(const data::bespoke_record& record, bool caller_owns, const std::string& owner_hash) {
    if (caller_owns) return;
    if (owner_hash.empty()) throw unauthorized("OwnerTokenRequired", "send the owner_token given at creation as X-Owner-Token");
    if (owner_hash != record.owner) throw forbidden("NotOwner", "this owner token does not own bespoke area " + record.id);
}

bool names_internal_dataset(const std::string& name, const std::vector<const data::dataset_info*>& internal_datasets) {
    auto lower = [](std::string t) {
        std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        return t;
    };
    const auto text = lower(name);
    for (const auto* d : internal_datasets) {
        if (!d->id.empty() && text.find(lower(d->id)) != std::string::npos) return true;
        if (!d->title.empty() && text.find(lower(d->title)) != std::string::npos) return true;
    }
    return false;
}

} // namespace smallarea::engine
