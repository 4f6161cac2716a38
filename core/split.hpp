#pragma once
// The one splitter of comma-separated user input (ids=, fields=, bbox=, codes=, --datasets). Whether an empty
// item is kept is the caller's explicit choice: lists of ids keep it so "a,,b" is refused as an unknown id
// rather than silently read as "a,b"; lists of options may drop it.

#include <string>
#include <vector>

namespace smallarea {

enum class empty_items { keep, drop };

/// Items between separators, each as given (no trimming), in order. "" gives one empty item with keep, none
/// with drop.
inline std::vector<std::string> split_list(const std::string& text, empty_items empties, char separator = ',') {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto end = text.find(separator, start);
        if (end == std::string::npos) end = text.size();
        if (end > start || empties == empty_items::keep) out.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

} // namespace smallarea
