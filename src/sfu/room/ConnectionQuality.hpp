#pragma once
// Connection quality of one participant as the server sees it (docs/protocol.md "Connection
// quality"), judged every QualityInterval from:
//   - uplink loss: its published streams' packets received vs expected from their sequence
//     numbers over the interval (RFC 3550 §6.4.1 "fraction lost", before any NACK repair);
//   - downlink loss and round trip: its subscribe transport's transport-wide-cc feedback
//     (CongestionStats, last second);
//   - `lost`: its signaling connection gone (reconnect grace), a transport whose ICE consent went
//     stale (RFC 7675) or failed, or no packets where packets must come.
//
// score = 100 - 5 x loss% - (rtt - 150 ms) / 10 ms, clamped to 0..100, with the worse of the two
// losses; quality: score >= 85 excellent (e.g. < 3% loss at a short RTT), >= 60 good (< 8%),
// else poor. The score reported is smoothed (each interval counts half), so one bad interval
// (a burst of loss) shows as `good`, not `poor`, and going up a band needs Hysteresis points more
// than its threshold, so a score on a border does not flap. Pure functions of what they are given:
// time is the caller's.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace meeting::sfu {

enum class Quality : uint8_t { Excellent, Good, Poor, Lost };
std::string_view toString(Quality quality);

/// What is known about a participant's connection over the last interval (nothing: unknown).
struct QualitySample {
  std::optional<double> uplinkLoss;    ///< 0..1
  std::optional<double> downlinkLoss;  ///< 0..1
  std::optional<std::chrono::milliseconds> rtt;
  bool lost = false;
};

struct QualityAssessment {
  Quality quality = Quality::Excellent;
  int score = 100;  ///< 0..100
  bool operator==(const QualityAssessment&) const = default;
};

class ConnectionQuality {
 public:
  static constexpr std::chrono::seconds Interval{2};
  static constexpr int ExcellentScore = 85;
  static constexpr int GoodScore = 60;
  static constexpr int Hysteresis = 5;
  /// Loss is judged only from at least this many expected packets (fewer say little).
  static constexpr uint64_t MinPacketsForLoss = 20;
  /// Round trips up to this cost nothing (it includes the receiver's feedback delay).
  static constexpr std::chrono::milliseconds FreeRtt{150};

  /// The score of one sample (0 when lost), without hysteresis.
  static int score(const QualitySample& sample);
  /// The band of a score, without hysteresis.
  static Quality band(int score);

  /// Judges the next interval's sample: the score is the mean of this sample's and the previous
  /// score (after `lost`, the sample alone); the band moves up only past its threshold + Hysteresis.
  QualityAssessment update(const QualitySample& sample);
  const QualityAssessment& current() const { return current_; }

 private:
  QualityAssessment current_;
};

}  // namespace meeting::sfu
