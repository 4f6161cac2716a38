#include "engine/breaks.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace smallarea::engine {

break_method parse_break_method(const std::string& text) {
    if (text.empty() || text == "quantile") return break_method::quantile;
    if (text == "equal") return break_method::equal;
    if (text == "jenks") return break_method::jenks;
    throw bad_request("InvalidMethod", "method must be quantile, equal or jenks");
}

namespace {

std::vector<double> jenks(const std::vector<double>& sorted, int classes) {
    // Fisher-Jenks: minimise the within-class sum of squared deviations. Hand-written: no packaged C++ library.
    const std::size_t n = sorted.size();
    const auto k = static_cast<std::size_t>(classes);
    std::vector<double> prefix(n + 1, 0.0), prefix_sq(n + 1, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
        prefix[i + 1] = prefix[i] + sorted[i];
        prefix_sq[i + 1] = prefix_sq[i] + sorted[i] * sorted[i];
    }
    auto ssd = [&](std::size_t from, std::size_t to) { // [from, to)
        const double count = static_cast<double>(to - from);
        const double sum = prefix[to] - prefix[from];
        return prefix_sq[to] - prefix_sq[from] - sum * sum / count;
    };
    const double inf = std::numeric_limits<double>::infinity();
    std::vector<std::vector<double>> cost(k + 1, std::vector<double>(n + 1, inf));
    std::vector<std::vector<std::size_t>> split(k + 1, std::vector<std::size_t>(n + 1, 0));
    cost[0][0] = 0.0;
    for (std::size_t c = 1; c <= k; ++c) {
        for (std::size_t end = c; end <= n; ++end) {
            for (std::size_t start = c - 1; start < end; ++start) {
                if (cost[c - 1][start] == inf) continue;
                const double total = cost[c - 1][start] + ssd(start, end);
                if (total < cost[c][end]) {
                    cost[c][end] = total;
                    split[c][end] = start;
                }
            }
        }
    }
    std::vector<double> breaks;
    std::size_t end = n;
    for (std::size_t c = k; c >= 1; --c) {
        breaks.push_back(sorted[end - 1]);
        end = split[c][end];
    }
    std::reverse(breaks.begin(), breaks.end());
    return breaks;
}

} // namespace

std::vector<double> compute_breaks(std::vector<double> values, int classes, break_method method) {
    values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return !std::isfinite(v); }), values.end());
    if (values.empty() || classes < 1) return {};
    std::sort(values.begin(), values.end());
    std::vector<double> distinct = values;
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    if (static_cast<int>(distinct.size()) <= classes) return distinct;

    std::vector<double> breaks;
    switch (method) {
    case break_method::equal: {
        const double lo = values.front();
        const double hi = values.back();
        for (int i = 1; i <= classes; ++i) breaks.push_back(lo + (hi - lo) * i / classes);
        break;
    }
    case break_method::quantile: {
        for (int i = 1; i <= classes; ++i) {
            const auto index = static_cast<std::size_t>(std::ceil(static_cast<double>(values.size()) * i / classes)) - 1;
            breaks.push_back(values[std::min(index, values.size() - 1)]);
        }
        break;
    }
    case break_method::jenks: {
        std::vector<double> sample;
        const std::size_t limit = 2000;
        if (values.size() > limit) {
            for (std::size_t i = 0; i < limit; ++i) sample.push_back(values[i * (values.size() - 1) / (limit - 1)]);
        } else {
            sample = values;
        }
        breaks = jenks(sample, classes);
        breaks.back() = values.back();
        break;
    }
    }
    breaks.erase(std::unique(breaks.begin(), breaks.end()), breaks.end());
    return breaks;
}

} // namespace smallarea::engine
