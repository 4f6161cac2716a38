#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "data/disclosure/policy.hpp"
#include "data/disclosure/rounding.hpp"
#include "data/disclosure/table.hpp"
#include "data/error.hpp"

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
    CHECK(table.total().excluded_cells == 1);
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
    // total: (3+1+5)/(8+9+10) = 33.3%
    CHECK(*table.total().percent == 33);
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

TEST_CASE("aggregate - percentage-only aggregates come from raw figures and stay percentages") {
    raw_table raw;
    raw.kind = measure_kind::percent_only;
    raw.rows.push_back({"A", "A", 100, 3, 8});
    raw.rows.push_back({"B", "B", 100, 1, 9});
    auto cells = protect(raw, internal_policy());
    auto agg = aggregate({{"AB", {0, 1}}}, cells, raw);
    CHECK(*agg.rows()[0].percent == 24); // 4 / 17
    CHECK_FALSE(agg.rows()[0].value);
}

TEST_CASE("aggregate - member index out of range is an error") {
    auto raw = counts({1});
    auto cells = protect(raw, internal_policy());
    CHECK_THROWS_AS(aggregate({{"x", {5}}}, cells, raw), smallarea::error);
}

TEST_CASE("aggregate - an aggregate's own published household count replaces the sum of its members'") {
    auto raw = counts({29, 30});
    auto cells = protect(raw, internal_policy());
    auto agg = aggregate({{"lsoa", {0, 1}}}, cells, raw, {std::optional<std::int64_t>(400)});
    CHECK(*agg.rows()[0].households == 400);
    CHECK(*agg.rows()[0].value == 60);
    CHECK(*agg.rows()[0].rate_per_100_households == doctest::Approx(15.0));
}

TEST_CASE("protect - rates are rounded to hundredths with halves up") {
    raw_table t;
    t.rows.push_back({"A", "A", 128, 20, std::nullopt}); // 15.625 -> 15.63
    auto table = protect(t, published_policy(1));
    CHECK(*table.rows()[0].rate_per_100_households == doctest::Approx(15.63));
}
