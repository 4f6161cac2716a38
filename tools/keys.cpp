// `smallarea keys ...`: organisations, API keys, suspension and the audit log of internal MI sharing
// (data/access_store.hpp). Printing lives here (tools/); errors from the store (unknown organisation, bad
// date, ...) propagate to main's catch ladder (exit 1); usage mistakes exit 2.

#include "data/access_store.hpp"
#include "core/split.hpp"
#include "core/error.hpp"
#include "tools/cli.hpp"
#include "data/store.hpp"

#include <algorithm>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

const char* const keys_usage = R"(usage:
  smallarea keys org-add --db STORE --name NAME --agreement-signed YYYY-MM-DD --datasets ID1,ID2
                         --representative NAME --representative-contact EMAIL_OR_PHONE
  smallarea keys org-update --db STORE --name NAME --representative NAME --representative-contact EMAIL_OR_PHONE
  smallarea keys org-list --db STORE
  smallarea keys issue --db STORE --org NAME          (prints the key once; only its hash is stored)
  smallarea keys revoke --db STORE --key-id N
  smallarea keys suspend --db STORE --org NAME | keys resume --db STORE --org NAME
  smallarea keys suspend-all --db STORE | keys resume-all --db STORE
  smallarea keys audit --db STORE [--limit 50] [--org NAME]
Internal MI is shared only with an organisation that signed the agreement and named its representative.
Every keys command migrates a store from an older schema version first.
)";

struct keys_usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::map<std::string, std::string> options(int argc, char** argv, int first, const std::vector<std::string>& known) {
    std::map<std::string, std::string> out;
    for (int i = first; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg.rfind("--", 0) != 0) throw keys_usage_error("unexpected argument " + arg);
        const auto key = arg.substr(2);
        bool ok = false;
        for (const auto& k : known) ok = ok || k == key;
        if (!ok) throw keys_usage_error("unknown option " + arg);
        if (i + 1 >= argc) throw keys_usage_error("option " + arg + " needs a value");
        out[key] = argv[++i];
    }
    return out;
}

std::string require(const std::map<std::string, std::string>& o, const std::string& key) {
    const auto it = o.find(key);
    if (it == o.end() || it->second.empty()) throw keys_usage_error("missing --" + key);
    return it->second;
}

// "a, b" as typed in a shell: spaces removed (dataset ids have none), empty items dropped.
std::vector<std::string> dataset_list(std::string text) {
    text.erase(std::remove(text.begin(), text.end(), ' '), text.end());
    return smallarea::split_list(text, smallarea::empty_items::drop);
}

std::int64_t whole_number(const std::string& text, const char* what) {
    try {
        std::size_t used = 0;
        const auto v = std::stoll(text, &used);
        if (used == text.size() && v >= 0) return v;
    } catch (...) {
    }
    throw keys_usage_error(std::string(what) + " must be a whole number, got " + text);
}

int run(int argc, char** argv) {
    if (argc < 3) throw keys_usage_error("keys needs a subcommand");
    const std::string sub = argv[2];
    using namespace smallarea::data;
    // Every subcommand opens the store through open_store_migrating, so an operator can name a representative
    // on a store from before schema v3 without running an ingest first.
    if (sub == "org-add") {
        const auto o = options(argc, argv, 3, {"db", "name", "agreement-signed", "datasets", "representative",
                                               "representative-contact"});
        const representative rep{require(o, "representative"), require(o, "representative-contact")};
        auto db = open_store_migrating(require(o, "db"));
        const auto org = add_organisation(db, require(o, "name"), require(o, "agreement-signed"),
                                          dataset_list(require(o, "datasets")), rep);
        std::cout << "organisation " << org.id << " \"" << org.name << "\" (agreement signed " << org.agreement_signed
                  << ", representative " << org.rep.name << " <" << org.rep.contact << ">) may read:";
        for (const auto& d : org.datasets) std::cout << ' ' << d;
        std::cout << "\nissue a key with: smallarea keys issue --db " << require(o, "db") << " --org \"" << org.name << "\"\n";
        return 0;
    }
    if (sub == "org-update") {
        const auto o = options(argc, argv, 3, {"db", "name", "representative", "representative-contact"});
        const representative rep{require(o, "representative"), require(o, "representative-contact")};
        auto db = open_store_migrating(require(o, "db"));
        const auto org = update_representative(db, require(o, "name"), rep);
        std::cout << "organisation " << org.id << " \"" << org.name << "\": representative " << org.rep.name << " <"
                  << org.rep.contact << ">\n";
        return 0;
    }
    if (sub == "org-list") {
        const auto o = options(argc, argv, 3, {"db"});
        auto db = open_store_migrating(require(o, "db"));
        std::cout << "all sharing: " << (sharing_suspended(db) ? "SUSPENDED" : "active") << '\n';
        for (const auto& org : list_organisations(db)) {
            const std::string rep = org.rep.name.empty() || org.rep.contact.empty()
                                        ? std::string("NO REPRESENTATIVE (nothing internal is shared; keys org-update)")
                                        : org.rep.name + " <" + org.rep.contact + ">";
            std::cout << org.id << '\t' << org.name << '\t' << (org.suspended ? "suspended" : "active")
                      << "\tagreement " << org.agreement_signed << "\trepresentative " << rep << '\t' << org.active_keys
                      << " active key(s)\tdatasets ";
            for (std::size_t i = 0; i < org.datasets.size(); ++i) std::cout << (i ? "," : "") << org.datasets[i];
            std::cout << '\n';
        }
        return 0;
    }
    if (sub == "issue") {
        const auto o = options(argc, argv, 3, {"db", "org"});
        auto db = open_store_migrating(require(o, "db"));
        const auto k = issue_key(db, require(o, "org"));
        std::cerr << "key " << k.id << " (" << k.prefix << "...) for \"" << k.organisation
                  << "\": shown once, only its SHA-256 hash is stored. Send it as Authorization: Bearer KEY\n";
        std::cout << k.key << '\n';
        return 0;
    }
    if (sub == "revoke") {
        const auto o = options(argc, argv, 3, {"db", "key-id"});
        auto db = open_store_migrating(require(o, "db"));
        const auto id = whole_number(require(o, "key-id"), "--key-id");
        revoke_key(db, id);
        std::cout << "key " << id << " revoked\n";
        return 0;
    }
    if (sub == "suspend" || sub == "resume") {
        const auto o = options(argc, argv, 3, {"db", "org"});
        auto db = open_store_migrating(require(o, "db"));
        set_organisation_suspended(db, require(o, "org"), sub == "suspend");
        std::cout << "sharing with \"" << require(o, "org") << "\" " << (sub == "suspend" ? "suspended" : "resumed") << '\n';
        return 0;
    }
    if (sub == "suspend-all" || sub == "resume-all") {
        const auto o = options(argc, argv, 3, {"db"});
        auto db = open_store_migrating(require(o, "db"));
        set_sharing_suspended(db, sub == "suspend-all");
        std::cout << "all sharing " << (sub == "suspend-all" ? "suspended" : "resumed") << '\n';
        return 0;
    }
    if (sub == "audit") {
        const auto o = options(argc, argv, 3, {"db", "limit", "org"});
        auto db = open_store_migrating(require(o, "db"));
        const auto limit = o.count("limit") ? whole_number(o.at("limit"), "--limit") : 50;
        const auto rows = read_audit(db, static_cast<int>(limit), o.count("org") ? o.at("org") : std::string());
        std::cout << "id\tat\torganisation\tkey\tclient\tendpoint\tdataset\tarea\toutcome\tdetail\n";
        for (const auto& r : rows) {
            std::cout << r.id << '\t' << r.at << '\t' << (r.organisation.empty() ? "-" : r.organisation) << '\t'
                      << (r.key_id ? std::to_string(*r.key_id) + ":" + r.key_prefix : "-") << '\t' << r.client << '\t'
                      << r.endpoint << '\t' << r.dataset.value_or("-") << '\t' << r.area.value_or("-") << '\t'
                      << (r.outcome == 0 ? std::string("-") : std::to_string(r.outcome)) << '\t' << r.detail << '\n';
        }
        return 0;
    }
    throw keys_usage_error("unknown keys subcommand " + sub);
}

} // namespace

/// Entry point for `smallarea keys ...` (argv[1] == "keys"). Returns the exit code; store and input errors
/// are thrown as smallarea::error for main's catch ladder.
namespace smallarea::cli {

int run_keys(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const keys_usage_error& e) {
        std::cerr << "smallarea: " << e.what() << '\n' << keys_usage;
        return 2;
    }
}

} // namespace smallarea::cli
