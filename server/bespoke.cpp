#include "server/bespoke.hpp"

#include "data/access_store.hpp"
#include "core/error.hpp"
#include "data/ogc_queries.hpp"
#include "geo/bespoke_geometry.hpp"
#include "geo/geojson.hpp"
#include "engine/encode.hpp"
#include "engine/export.hpp"
#include "server/access.hpp"
#include "server/http_util.hpp"

#include <algorithm>
#include <cstdint>
#include <random>

namespace smallarea::server {

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

// Checks members and builds the record to save (outline included). members are sorted and deduplicated.
data::bespoke_record prepare(context& ctx, const snapshot& s, const std::string& name, std::vector<std::size_t> members,
                             const std::string& source, const std::string& owner_hash, const bespoke_ownership& ownership) {
    std::sort(members.begin(), members.end());
    members.erase(std::unique(members.begin(), members.end()), members.end());
    if (members.empty()) throw bad_request("EmptySelection", "a bespoke area needs at least one member area");
    if (members.size() > ctx.config().max_bespoke_members) {
        throw bad_request("TooManyMembers", "a bespoke area has at most " + std::to_string(ctx.config().max_bespoke_members) +
                                                " members (" + std::to_string(members.size()) + " given)");
    }
    const auto& first = s.areas()[members.front()];
    data::bespoke_record r;
    r.name = name;
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
    r.source = source;
    r.created_at = data::utc_now();
    r.outline = dissolve_areas(ctx, s, members);
    return r;
}

} // namespace

std::string bespoke_owner(const httplib::Request& req) {
    const auto token = req.get_header_value("X-Owner-Token");
    return token.empty() ? std::string() : data::hash_key(token);
}

std::string new_bespoke_id() { return random_text(10, "abcdefghijklmnopqrstuvwxyz234567", 32); }

std::string new_owner_token() { return random_text(64, "0123456789abcdef", 16); }

data::bespoke_record resolve_bespoke_record(context& ctx, const httplib::Request& req, const data::bespoke_reader& who,
                                            const std::string& id, bool with_outline) {
    const bool well_formed = !id.empty() && id.size() <= 32 &&
                             std::all_of(id.begin(), id.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'); });
    std::optional<data::bespoke_record> r;
    bool hidden = false;
    if (well_formed) r = data::load_bespoke(ctx.connection(), id, with_outline, who, &hidden);
    if (hidden) ctx.access().note_private_bespoke(req, id, false);
    if (!r) throw not_found("UnknownBespoke", "no bespoke area \"" + id.substr(0, 40) + "\"");
    if (!r->is_public) ctx.access().note_private_bespoke(req, id, true);
    return std::move(*r);
}

bespoke_area load_bespoke_area(context& ctx, const httplib::Request& req, const snapshot& s, const std::string& id,
                               bool with_outline) {
    bespoke_area b;
    b.record = resolve_bespoke_record(ctx, req, ctx.bespoke_reader(req), id, with_outline);
    for (const auto area_id : b.record.members) {
        if (const auto i = s.find_area_by_id(area_id)) b.members.push_back(*i);
    }
    std::sort(b.members.begin(), b.members.end(),
              [&](std::size_t x, std::size_t y) { return s.areas()[x].code < s.areas()[y].code; });
    return b;
}

bespoke_ownership ownership_for(context& ctx, const httplib::Request& req, std::optional<bool> want_public, bool always_private) {
    bespoke_ownership o;
    o.always_private = always_private;
    if (req.has_header("Authorization")) {
        // A presented key must be usable: check it as for internal data (401/403 for its problems), whatever the
        // request is about, so an area meant to be private is never saved as public by mistake.
        ctx.access().require_usable_key(req);
        o.organisation = ctx.access().organisation(req);
    }
    if (!o.organisation) {
        if (want_public && !*want_public) {
            throw bad_request("InvalidParameter", "a private bespoke area needs an owner: send Authorization: Bearer KEY "
                                                  "of your organisation (areas made without a key are public)");
        }
        if (always_private) {
            // Only reachable for zones on published data without a key: nothing internal went into them.
            o.always_private = false;
        }
        o.is_public = true;
        return o;
    }
    if (want_public && *want_public && always_private) {
        throw disclosure_refused("AlwaysPrivate", "zones and areas derived from internal MI stay private to the organisation "
                                                  "whose key made them");
    }
    o.is_public = want_public.value_or(false) && !always_private;
    return o;
}

std::string dissolve_areas(context& ctx, const snapshot& s, const std::vector<std::size_t>& members) {
    std::vector<std::int64_t> ids;
    ids.reserve(members.size());
    for (const auto m : members) ids.push_back(s.areas()[m].id);
    const auto geometries = data::load_geometry_map(ctx.connection(), ids);
    std::vector<std::string_view> views;
    views.reserve(geometries.size());
    for (const auto& [id, wkb] : geometries) views.emplace_back(wkb);
    return geo::dissolve_wkb(views);
}

data::bespoke_record save_bespoke_area(context& ctx, const snapshot& s, const std::string& name,
                                       std::vector<std::size_t> members, const std::string& source,
                                       const std::string& owner_hash, const bespoke_ownership& ownership) {
    auto r = prepare(ctx, s, name, std::move(members), source, owner_hash, ownership);
    ctx.with_writer([&](data::database& db) { data::insert_bespoke(db, r); });
    return r;
}

std::vector<data::bespoke_record> save_bespoke_areas(context& ctx, const snapshot& s,
                                                     const std::vector<std::pair<std::string, std::vector<std::size_t>>>& areas,
                                                     const std::string& source, const std::string& owner_hash,
                                                     const bespoke_ownership& ownership) {
    std::vector<data::bespoke_record> out;
    for (const auto& [name, members] : areas) out.push_back(prepare(ctx, s, name, members, source, owner_hash, ownership));
    ctx.with_writer([&](data::database& db) {
        for (const auto& r : out) data::insert_bespoke(db, r);
    });
    return out;
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
        if (with_members) {
            const auto it = a.denominators.find("households");
            members.push_back(json{{"code", a.code}, {"name", a.name},
                                   {"households", it == a.denominators.end() ? json(nullptr) : json(it->second)}});
        }
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

void serve_bespoke_table(context& ctx, const httplib::Request& req, httplib::Response& res) {
    const auto s = ctx.snap();
    auto q = s->make_query(param(req, "dataset"), param(req, "measure"), param(req, "period"), "",
                           param(req, "vintage"), "");
    ctx.authorize(req, *q.dataset);
    q.bespoke_reader = ctx.bespoke_reader(req);
    const std::string ids_text = param(req, "ids");
    res.set_header("X-Smallarea-Classification", disclosure::to_string(q.dataset->policy.classification));
    const std::string format = param(req, "format") == "xlsx" ? std::string("xlsx") : format_of(req);
    if (format != "json") {
        // The same files as /api/export/bespoke.{csv,xlsx} (one writer, one disclosure statement, dated name); the
        // writer validates the ids and loads and sums the bespoke areas itself.
        export_request r;
        r.dataset = q.dataset->id;
        r.measure = q.measure->id;
        r.period = q.period;
        r.level = "bespoke";
        r.ids = ids_text;
        r.within = param(req, "within");
        r.vintage = param(req, "vintage");
        r.format = format == "xlsx" ? "xlsx" : "csv";
        r.max_rows = ctx.config().max_export_rows;
        r.bespoke = ctx.bespoke_reader(req);
        r.options = parse_file_options(param(req, "totals"), param(req, "preamble"));
        const auto file = export_bespoke(*s, ctx.connection(), r);
        send_table_file(res, file, format == "csvw", url_with_format(req, req.path, "csv"), url_with_format(req, req.path, "csvw"));
        return;
    }
    if (ids_text.empty()) throw bad_request("MissingParameter", "level=bespoke needs ids=ID,ID,...");
    if (!param(req, "within").empty()) throw bad_request("InvalidParameter", "level=bespoke takes ids, not within");
    const std::vector<std::string> ids = split_ids(ids_text);
    if (ids.size() > 100) throw bad_request("InvalidParameter", "at most 100 bespoke ids");
    std::vector<bespoke_area> areas;
    for (const auto& id : ids) {
        areas.push_back(load_bespoke_area(ctx, req, *s, id, false));
        q.groups.emplace_back(id, areas.back().members);
    }
    const auto result = s->table(ctx.connection(), q);
    const bool percent = result.table.kind() == disclosure::measure_kind::percent_only;
    const auto& d = *q.dataset;
    json rows = json::array();
    for (std::size_t i = 0; i < areas.size(); ++i) {
        json row = protected_row_json(result.table.rows()[i], percent);
        row["id"] = areas[i].record.id;
        row["code"] = "bespoke:" + areas[i].record.id;
        row["name"] = areas[i].record.name;
        row["level"] = "bespoke";
        row["member_level"] = areas[i].record.level;
        row["members"] = areas[i].members.size();
        rows.push_back(std::move(row));
    }
    send_json(res, json{{"dataset", json{{"id", d.id}, {"title", d.title}, {"publisher", d.publisher},
                                         {"licence", d.licence}, {"attribution", d.attribution}, {"release", d.release}}},
                        {"measure", json{{"id", q.measure->id}, {"title", q.measure->title}, {"unit", q.measure->unit},
                                         {"kind", data::to_string(q.measure->kind)}}},
                        {"period", q.period},
                        {"level", "bespoke"},
                        {"vintage", q.vintage},
                        {"classification", disclosure::to_string(d.policy.classification)},
                        {"disclosure", disclosure_json(d)},
                        {"rows", std::move(rows)}});
}

} // namespace smallarea::server
