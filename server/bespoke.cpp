#include "server/bespoke.hpp"

#include "data/access_store.hpp"
#include "core/error.hpp"
#include "data/ogc_queries.hpp"
#include "engine/encode.hpp"
#include "engine/export.hpp"
#include "server/access.hpp"
#include "server/http_util.hpp"

#include <algorithm>

namespace smallarea::server {

using nlohmann::json;

std::string bespoke_owner(const httplib::Request& req) {
    const auto token = req.get_header_value("X-Owner-Token");
    return token.empty() ? std::string() : data::hash_key(token);
}

data::bespoke_record resolve_bespoke_record(context& ctx, const httplib::Request& req, const data::bespoke_reader& who,
                                            const std::string& id, bool with_outline) {
    bool hidden = false;
    auto r = find_bespoke(ctx.connection(), id, with_outline, who, &hidden);
    if (hidden) ctx.access().note_private_bespoke(req, id, false);
    if (!r) throw unknown_bespoke(id);
    if (!r->is_public) ctx.access().note_private_bespoke(req, id, true);
    return std::move(*r);
}

bespoke_area load_bespoke_area(context& ctx, const httplib::Request& req, const snapshot& s, const std::string& id,
                               bool with_outline) {
    return resolve_members(s, resolve_bespoke_record(ctx, req, ctx.bespoke_reader(req), id, with_outline));
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

std::vector<data::bespoke_record> save_bespoke_areas(context& ctx, const snapshot& s, const std::vector<bespoke_draft>& drafts,
                                                     const std::string& owner_hash, const bespoke_ownership& ownership) {
    std::vector<data::bespoke_record> out;
    // Outlines are dissolved on this thread's read connection before the writer is taken, so the single writer
    // is held only for the inserts.
    for (const auto& draft : drafts) {
        out.push_back(prepare_bespoke(ctx.connection(), s, draft, ctx.config().max_bespoke_members, owner_hash, ownership));
    }
    ctx.with_writer([&](data::database& db) {
        for (const auto& r : out) data::insert_bespoke(db, r);
    });
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
