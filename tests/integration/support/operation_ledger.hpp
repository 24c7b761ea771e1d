#pragma once
// Records every asynchronous operation a fault test starts and each of its completions, so the
// test can check that each one completed exactly once, and with what.
#include <heartbeat/core/error.hpp>

#include <boost/system/error_code.hpp>

#include <deque>
#include <sstream>
#include <string>

namespace heartbeat::test {

class operation_ledger {
public:
    struct entry {
        std::string name;
        int completions = 0;
        boost::system::error_code result;
    };

    // Returns the operation's id, for complete().
    std::size_t start(std::string name) {
        ops_.push_back(entry{std::move(name)});
        return ops_.size() - 1;
    }
    void complete(std::size_t id, boost::system::error_code ec) {
        ++ops_[id].completions;
        ops_[id].result = ec;
    }

    const std::deque<entry>& operations() const noexcept { return ops_; }
    std::size_t size() const noexcept { return ops_.size(); }

    // Every operation not completed exactly once, one per line; empty when all were.
    std::string not_completed_once() const {
        std::ostringstream out;
        for (const auto& op : ops_)
            if (op.completions != 1)
                out << op.name << " completed " << op.completions << " times\n";
        return out.str();
    }

    // Every completion with an error that is neither success nor one of `allowed`.
    template <class... Codes>
    std::string unexpected_results(const Codes&... allowed) const {
        std::ostringstream out;
        for (const auto& op : ops_) {
            if (!op.result)
                continue;
            if (!((op.result == allowed) || ...))
                out << op.name << " ended with " << error_name(op.result) << " ("
                    << op.result.message() << ")\n";
        }
        return out.str();
    }

private:
    std::deque<entry> ops_; // a deque: entries stay put while handlers refer to them by id
};

// A named reason: one of the library's errors or an OS error error_name() knows by name.
inline bool has_stable_name(const boost::system::error_code& ec) {
    return ec && std::string(error_name(ec)) != "system_error";
}

} // namespace heartbeat::test
