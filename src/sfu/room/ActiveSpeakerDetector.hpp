#pragma once
// The room's active-speaker list (docs/protocol.md "Active speakers"): every SpeakerInterval the
// room hands in each participant whose microphone's AudioLevelMeter says it is speaking, and the
// detector answers with the list sorted loudest first when it differs from the last one sent,
// so that `activeSpeakers` goes out only on a change (an empty list when silence starts).
//
// "Differs" means another set of identities or another order; levels alone moving do not resend.
// Control path (a few times a second per room): allocation is fine here.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace meeting::sfu {

class ActiveSpeakerDetector {
 public:
  static constexpr std::chrono::milliseconds Interval{300};

  struct Speaker {
    std::string identity;
    double level = 0;  ///< 0..1, louder is higher
    bool operator==(const Speaker&) const = default;
  };

  /// One speaking participant this round (call once per participant: its loudest track).
  void add(std::string identity, double level);
  /// Ends the round: the sorted list when it differs from the last one returned, else nothing.
  std::optional<std::vector<Speaker>> finish();
  /// The list as last returned (what the participants were told).
  const std::vector<Speaker>& current() const { return current_; }
  /// True when `identity` is in current().
  bool contains(const std::string& identity) const;

 private:
  std::vector<Speaker> round_;
  std::vector<Speaker> current_;
};

}  // namespace meeting::sfu
