#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <array>
#include <doctest/doctest.h>

#include "data/disclosure/policy.hpp"
#include "data/disclosure/rounding.hpp"
#include "data/disclosure/table.hpp"
#include "core/error.hpp"

using namespace smallarea::disclosure;

namespace {

policy internal_policy(std::int64_t base = 20) {
    policy p;
    p.classification = classification::internal;
    p.rounded_by = rounded_by::smallarea;
    p.rounding_base = base;
    return p;
}

policy published_policy(std::int64_t base = 5) {
    policy p;
    p.classification = classification::published;
    p.rounded_by = rounded_by::publisher;
    p.rounding_base = base;
    return p;
}

raw_table counts(const std::vector<std::optional<std::int64_t>>& values) {
    raw_table t;
    int i = 0;
    for (auto v : values) {
        raw_row r;
        r.code = "A" + std::to_string(i++);
        r.name = r.code;
        r.households = 100;
        r.value = v;
        t.rows.push_back(r);
    }
    return t;
}

} // namespace

TEST_CASE("rounding - base 20 rounds halves up at the boundaries of the guidance") {
    CHECK(round_half_up(0, 20) == 0);
    CHECK(round_half_up(9, 20) == 0);
    CHECK(round_half_up(10, 20) == 20);
    CHECK(round_half_up(11, 20) == 20);
    CHECK(round_half_up(29, 20) == 20);
    CHECK(round_half_up(30, 20) == 40);
    CHECK(round_half_up(31, 20) == 40);
    CHECK(round_half_up(1'000'000'009, 20) == 1'000'000'000);
    CHECK(round_half_up(1'000'000'010, 20) == 1'000'000'020);
}

TEST_CASE("rounding - odd bases and base 1") {
    CHECK(round_half_up(2, 5) == 0);
    CHECK(round_half_up(3, 5) == 5);
    CHECK(round_half_up(7, 5) == 5);
    CHECK(round_half_up(8, 5) == 10);
    CHECK(round_half_up(17, 1) == 17);
    CHECK(round_half_up(4, 10) == 0);
    CHECK(round_half_up(5, 10) == 10);
}

TEST_CASE("rounding - every result is a multiple of the base and within half of it") {
    for (std::int64_t base : {1, 2, 5, 10, 20, 50}) {
        for (std::int64_t v = 0; v < 500; ++v) {
            const auto r = round_half_up(v, base);
            REQUIRE(r % base == 0);
            REQUIRE(std::abs(r - v) * 2 <= base);
        }
    }
}

TEST_CASE("rounding - whole percentages round halves up without float error") {
    CHECK(percent_half_up(1, 8) == 13);  // 12.5
    CHECK(percent_half_up(1, 3) == 33);
    CHECK(percent_half_up(2, 3) == 67);
    CHECK(percent_half_up(0, 7) == 0);
    CHECK(percent_half_up(7, 7) == 100);
    CHECK(percent_half_up(57, 200) == 29); // 28.5
}

TEST_CASE("protect - internal cells are rounded and the total is the sum of rounded cells") {
    auto table = protect(counts({9, 10, 29, 30}), internal_policy());
    REQUIRE(table.rows().size() == 4);
    CHECK(*table.rows()[0].value == 0);
    CHECK(*table.rows()[1].value == 20);
    CHECK(*table.rows()[2].value == 20);
    CHECK(*table.rows()[3].value == 40);
    // raw total 78 would round to 80 on its own; the rule is the sum of rounded cells.
    CHECK(*table.total().value == 80);
    auto table2 = protect(counts({10, 10, 10}), internal_policy());
    CHECK(*table2.total().value == 60); // raw 30 would round to 40
    CHECK(table2.total().uncertainty == doctest::Approx(30.0));
    CHECK(table2.total().cells == 3);
}

TEST_CASE("protect - published cells are served as published with an uncertainty bound") {
    auto table = protect(counts({5, 10, 15}), published_policy());
    CHECK(*table.rows()[0].value == 5);
    CHECK(*table.rows()[2].value == 15);
    CHECK(*table.total().value == 30);
    CHECK(table.total().uncertainty == doctest::Approx(3 * 2.5));
    CHECK(table.policy().classification == classification::published);
}

TEST_CASE("protect - rates per 100 households use protected values") {
    auto table = protect(counts({29}), internal_policy());
    REQUIRE(table.rows()[0].rate_per_100_households);
    CHECK(*table.rows()[0].rate_per_100_households == doctest::Approx(20.0)); // 20 of 100, not 29
}

TEST_CASE("protect - missing cells are neither zero nor suppressed") {
    auto table = protect(counts({std::nullopt, 40}), internal_policy());
    CHECK(table.rows()[0].missing);
    CHECK_FALSE(table.rows()[0].value);
    CHECK_FALSE(table.rows()[0].suppressed);
    CHECK(*table.total().value == 40);
    CHECK(table.total().cells == 2);
    CHECK(table.total().cells_with_value == 1);
    CHECK_FALSE(table.total().complete());
}

TEST_CASE("protect - small cells under the threshold are suppressed at k-1, shown at k and k+1") {
    auto p = published_policy(1);
    p.suppression_threshold = 10;
    auto table = protect(counts({9, 10, 11}), p);
    CHECK(table.rows()[0].suppressed);
    CHECK_FALSE(table.rows()[0].value);
    CHECK_FALSE(table.rows()[0].rate_per_100_households);
    CHECK(*table.rows()[1].value == 10);
    CHECK(*table.rows()[2].value == 11);
    CHECK(*table.total().value == 21);
}

TEST_CASE("protect - suppression is judged on the rounded value") {
    auto p = internal_policy(20);
    p.suppression_threshold = 20;
    auto table = protect(counts({9, 10}), p);
    CHECK(table.rows()[0].suppressed); // rounds to 0
    CHECK(*table.rows()[1].value == 20);
}

TEST_CASE("protect - percentage-only measures are never volumes") {
    raw_table raw;
    raw.kind = measure_kind::percent_only;
    raw.rows.push_back({"A", "A", 100, 3, 8});   // 37.5% -> 38
    raw.rows.push_back({"B", "B", 100, 1, 9});   // base below 10 -> suppressed
    raw.rows.push_back({"C", "C", 100, 5, 10});  // base at 10 -> 50
    raw.rows.push_back({"D", "D", 100, std::nullopt, std::nullopt});
    auto p = internal_policy();
    p.percent_min_denominator = 10;
    p.rounding_base = 20;
    auto table = protect(raw, p);
    for (const auto& row : table.rows()) {
        CHECK_FALSE(row.value);
        CHECK_FALSE(row.rate_per_100_households);
    }
    CHECK(table.rows()[0].suppressed); // base 8 is below 10
    CHECK(table.rows()[1].suppressed);
    CHECK(*table.rows()[2].percent == 50);
    CHECK(table.rows()[3].missing);
    // total: over the served cell only (C: 5 of 10), never including the suppressed A and B (rule 3)
    CHECK(*table.total().percent == 50);
    CHECK(table.total().cells == 4);
    CHECK(table.total().cells_with_value == 1);
    CHECK_FALSE(table.total().value);
}

TEST_CASE("protect - negative raw values are refused") {
    CHECK_THROWS_AS(protect(counts({-1}), internal_policy()), smallarea::error);
}

TEST_CASE("policy - an unusable policy is a bad request") {
    auto p = internal_policy(0);
    CHECK_THROWS_AS(validate(p), smallarea::bad_request);
    p = internal_policy(20);
    p.rounded_by = rounded_by::publisher;
    CHECK_THROWS_AS(validate(p), smallarea::bad_request);
    CHECK(describe(internal_policy()).find("nearest 20") != std::string::npos);
    CHECK(describe(published_policy()).find("Published") != std::string::npos);
}

TEST_CASE("aggregate - a bespoke area is the sum of its members' protected values") {
    auto raw = counts({9, 10, 29, 30, 14});
    auto cells = protect(raw, internal_policy());
    auto agg = aggregate({{"east", {0, 1, 2}}, {"west", {3, 4}}}, cells, raw);
    REQUIRE(agg.rows().size() == 2);
    CHECK(*agg.rows()[0].value == 40);  // 0 + 20 + 20, not round(48) = 40 by coincidence
    CHECK(*agg.rows()[1].value == 60);  // 40 + 20; rounding the raw sum 44 would give 40
    CHECK(agg.rows()[0].uncertainty == doctest::Approx(30.0));
    CHECK(*agg.rows()[0].households == 300);
    CHECK(*agg.total().value == *cells.total().value);
    auto agg2 = aggregate({{"pair", {1, 1 + 0}}}, cells, raw);
    CHECK(*agg2.rows()[0].value == 40);
}

raw_table outcomes(const std::vector<std::array<std::int64_t, 2>>& cells) {
    raw_table raw;
    raw.kind = measure_kind::percent_only;
    for (std::size_t i = 0; i < cells.size(); ++i) {
        raw.rows.push_back({"C" + std::to_string(i), "C", 100, cells[i][0], cells[i][1]});
    }
    return raw;
}

TEST_CASE("aggregate - percentage-only aggregates use served cells only and stay percentages") {
    auto raw = outcomes({{3, 12}, {1, 9}, {6, 10}}); // 25%, suppressed (base 9), 60%
    auto cells = protect(raw, internal_policy());
    auto agg = aggregate({{"all", {0, 1, 2}}, {"small", {1}}}, cells, raw);
    CHECK(*agg.rows()[0].percent == 41); // (3 + 6) / (12 + 10) = 40.9%; the suppressed cell is left out
    CHECK(agg.rows()[0].cells == 3);
    CHECK(agg.rows()[0].cells_with_value == 2);
    CHECK_FALSE(agg.rows()[0].complete());
    CHECK_FALSE(agg.rows()[0].value);
    CHECK(agg.rows()[1].suppressed); // an aggregate of suppressed cells only is hidden, not "no data"
    CHECK_FALSE(agg.rows()[1].percent);
}

TEST_CASE("aggregate - percentages are unchanged when served cells scale and suppressed cells change") {
    // The property behind rule 3: if k times every served cell and any other small figures in suppressed cells
    // give the same answers, no answer pins down a volume or a base.
    auto raw = outcomes({{3, 12}, {1, 9}, {6, 10}, {0, 4}, {17, 41}});
    auto twin = outcomes({{9, 36}, {8, 8}, {18, 30}, {2, 3}, {51, 123}});
    auto cells = protect(raw, internal_policy());
    auto twin_cells = protect(twin, internal_policy());
    const std::vector<std::pair<std::string, std::vector<std::size_t>>> groups{
        {"a", {0, 1}}, {"b", {1, 3}}, {"c", {0, 2, 4}}, {"d", {0, 1, 2, 3, 4}}};
    auto agg = aggregate(groups, cells, raw);
    auto twin_agg = aggregate(groups, twin_cells, twin);
    for (std::size_t i = 0; i < cells.rows().size(); ++i) {
        CHECK(cells.rows()[i].percent == twin_cells.rows()[i].percent);
        CHECK(cells.rows()[i].suppressed == twin_cells.rows()[i].suppressed);
    }
    for (std::size_t i = 0; i < groups.size(); ++i) {
        CHECK(agg.rows()[i].percent == twin_agg.rows()[i].percent);
        CHECK(agg.rows()[i].suppressed == twin_agg.rows()[i].suppressed);
    }
    CHECK(agg.total().percent == twin_agg.total().percent);
    CHECK(cells.total().percent == twin_cells.total().percent);
}

TEST_CASE("aggregate - member index out of range is an error") {
    auto raw = counts({1});
    auto cells = protect(raw, internal_policy());
    CHECK_THROWS_AS(aggregate({{"x", {5}}}, cells, raw), smallarea::error);
}

raw_table cells_with(const std::vector<std::pair<std::optional<std::int64_t>, std::optional<std::int64_t>>>& value_households) {
    raw_table t;
    for (std::size_t i = 0; i < value_households.size(); ++i) {
        t.rows.push_back({"C" + std::to_string(i), "C", value_households[i].second, value_households[i].first, std::nullopt});
    }
    return t;
}

TEST_CASE("aggregate - missing cells at k-1, k, k+1: cells, cells_with_value and complete say so") {
    for (std::size_t missing = 0; missing <= 3; ++missing) {
        std::vector<std::pair<std::optional<std::int64_t>, std::optional<std::int64_t>>> v;
        for (std::size_t i = 0; i < 3; ++i) v.push_back({i < missing ? std::nullopt : std::optional<std::int64_t>(40), 100});
        auto raw = cells_with(v);
        auto cells = protect(raw, internal_policy());
        auto agg = aggregate({{"lad", {0, 1, 2}}}, cells, raw);
        const auto& row = agg.rows()[0];
        INFO(missing << " missing");
        CHECK(row.cells == 3);
        CHECK(row.cells_with_value == static_cast<std::int64_t>(3 - missing));
        CHECK(row.complete() == (missing == 0));
        CHECK(*row.households == 300); // households known for every cell
        CHECK(row.households_complete());
        if (missing == 3) {
            CHECK(row.missing);
            CHECK_FALSE(row.value);
            CHECK_FALSE(row.rate_per_100_households); // nothing to rate: null, never 0
        } else {
            CHECK(*row.value == static_cast<std::int64_t>(40 * (3 - missing)));
            // The rate uses the households of the cells that have a value, never all 300.
            CHECK(*row.rate_households == static_cast<std::int64_t>(100 * (3 - missing)));
            CHECK(*row.rate_per_100_households == doctest::Approx(40.0));
        }
    }
}

TEST_CASE("aggregate - unknown households are never 0: summed over known cells, rate over cells with both") {
    // Five OAs, one without a Census count: the rate is that of the four known members.
    auto raw = cells_with({{20, 100}, {20, 110}, {40, 90}, {0, 115}, {20, std::nullopt}});
    auto cells = protect(raw, internal_policy());
    CHECK_FALSE(cells.rows()[4].rate_per_100_households);
    auto agg = aggregate({{"five", {0, 1, 2, 3, 4}}, {"unknown", {4}}}, cells, raw);
    const auto& five = agg.rows()[0];
    CHECK(*five.households == 415);
    CHECK_FALSE(five.households_complete());
    CHECK(five.cells_with_households == 4);
    CHECK(*five.value == 100);           // every protected value is in the sum
    CHECK(*five.rate_households == 415); // but the rate is over the four with households: 80 per 415
    CHECK(*five.rate_per_100_households == doctest::Approx(19.28));
    const auto& unknown = agg.rows()[1];
    CHECK_FALSE(unknown.households); // null, not 0
    CHECK_FALSE(unknown.rate_per_100_households);
    CHECK(*unknown.value == 20);
}

TEST_CASE("aggregate - the total row is the sum of the rows shown, for every field") {
    // Cells 3 and 4 belong to no row (e.g. districts the lookup does not cover): the total leaves them out.
    auto raw = cells_with({{29, 100}, {30, 200}, {std::nullopt, 50}, {400, 1000}, {9, std::nullopt}});
    auto cells = protect(raw, internal_policy());
    auto agg = aggregate({{"a", {0, 1}}, {"b", {2}}}, cells, raw);
    const auto& total = agg.total();
    CHECK(*total.value == *agg.rows()[0].value);
    CHECK(*total.households == 350);
    CHECK(total.cells == 3);
    CHECK(total.cells_with_value == 2);
    CHECK(total.uncertainty == doctest::Approx(agg.rows()[0].uncertainty));
    CHECK(*total.rate_households == 300);
    CHECK(*total.rate_per_100_households == doctest::Approx(20.0)); // 60 per 300
}

TEST_CASE("protect - rounding dominates when the uncertainty is at least half the value (k-1, k, k+1)") {
    auto raw = counts({29, 30, 50}); // 20 +- 10, 40 +- 10, 60 +- 10
    auto cells = protect(raw, internal_policy());
    CHECK(cells.rows()[0].rounding_dominates());
    CHECK_FALSE(cells.rows()[1].rounding_dominates());
    auto agg = aggregate({{"two", {0, 0}}, {"many", {0, 0, 0, 0}}}, cells, raw); // 40 +- 20: at the bound
    CHECK(agg.rows()[0].rounding_dominates());
    auto published = protect(counts({5}), published_policy(1));
    CHECK_FALSE(published.rows()[0].rounding_dominates()); // unrounded: no rounding error at all
}

TEST_CASE("protect - rates are rounded to hundredths with halves up") {
    raw_table t;
    t.rows.push_back({"A", "A", 128, 20, std::nullopt}); // 15.625 -> 15.63
    auto table = protect(t, published_policy(1));
    CHECK(*table.rows()[0].rate_per_100_households == doctest::Approx(15.63));
}

TEST_CASE("suppression - a cell the publisher suppressed is served suppressed, not missing, and so is its total") {
    raw_table raw = counts({5, 10});
    raw_row marked;
    marked.code = "E01000003";
    marked.suppressed = true; // no value: the source said ".."
    raw.rows.push_back(marked);
    raw_row empty;
    empty.code = "E01000004";
    raw.rows.push_back(empty);
    const auto table = protect(raw, published_policy());
    REQUIRE(table.rows().size() == 4);
    CHECK(table.rows()[2].suppressed);
    CHECK_FALSE(table.rows()[2].missing);
    CHECK_FALSE(table.rows()[2].value);
    CHECK(table.rows()[3].missing);
    CHECK_FALSE(table.rows()[3].suppressed);
    // The total still sums the served cells; a suppressed member never counts as 0.
    CHECK(table.total().value == 15);
}

TEST_CASE("protect - a cell the publisher suppressed is served as suppressed, never missing, and enters no aggregate") {
    auto raw = counts({std::nullopt, 40, std::nullopt});
    raw.rows[0].suppressed = true; // e.g. Stat-Xplore's ".." (the third cell is simply absent)
    auto cells = protect(raw, internal_policy());
    CHECK(cells.rows()[0].suppressed);
    CHECK_FALSE(cells.rows()[0].missing);
    CHECK_FALSE(cells.rows()[0].value);
    CHECK(cells.rows()[2].missing);
    auto agg = aggregate({{"all", {0, 1, 2}}, {"hidden", {0}}}, cells, raw);
    CHECK(*agg.rows()[0].value == 40);
    CHECK(agg.rows()[0].cells_with_value == 1);
    CHECK(agg.rows()[1].suppressed);
    CHECK_FALSE(agg.rows()[1].missing);
}
