#include "sfu/room/ActiveSpeakerDetector.hpp"

#include <algorithm>

namespace meeting::sfu {

void ActiveSpeakerDetector::add(std::string identity, double level) {
  round_.push_back(Speaker{std::move(identity), level});
}

std::optional<std::vector<ActiveSpeakerDetector::Speaker>> ActiveSpeakerDetector::finish() {
  // Loudest first; equal levels by identity so that the order is stable from round to round.
  std::sort(round_.begin(), round_.end(), [](const Speaker& a, const Speaker& b) {
    return a.level != b.level ? a.level > b.level : a.identity < b.identity;
  });
  bool same = round_.size() == current_.size() &&
              std::equal(round_.begin(), round_.end(), current_.begin(),
                         [](const Speaker& a, const Speaker& b) { return a.identity == b.identity; });
  if (same) {
    current_ = std::move(round_);  // the newest levels, for a late joiner's snapshot
    round_.clear();
    return std::nullopt;
  }
  current_ = std::move(round_);
  round_.clear();
  return current_;
}

bool ActiveSpeakerDetector::contains(const std::string& identity) const {
  return std::any_of(current_.begin(), current_.end(), [&](const Speaker& s) { return s.identity == identity; });
}

}  // namespace meeting::sfu
