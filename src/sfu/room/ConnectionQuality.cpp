#include "sfu/room/ConnectionQuality.hpp"

#include <algorithm>
#include <cmath>

namespace meeting::sfu {

std::string_view toString(Quality quality) {
  switch (quality) {
    case Quality::Excellent:
      return "excellent";
    case Quality::Good:
      return "good";
    case Quality::Poor:
      return "poor";
    case Quality::Lost:
      return "lost";
  }
  return "lost";
}

int ConnectionQuality::score(const QualitySample& sample) {
  if (sample.lost) return 0;
  double loss = std::max(sample.uplinkLoss.value_or(0.0), sample.downlinkLoss.value_or(0.0));
  loss = std::clamp(std::isfinite(loss) ? loss : 1.0, 0.0, 1.0);
  double penalty = loss * 100 * 5;
  if (sample.rtt && *sample.rtt > FreeRtt) penalty += static_cast<double>((*sample.rtt - FreeRtt).count()) / 10.0;
  return static_cast<int>(std::lround(std::clamp(100.0 - penalty, 0.0, 100.0)));
}

Quality ConnectionQuality::band(int score) {
  if (score >= ExcellentScore) return Quality::Excellent;
  if (score >= GoodScore) return Quality::Good;
  return Quality::Poor;
}

QualityAssessment ConnectionQuality::update(const QualitySample& sample) {
  if (sample.lost) {
    current_ = {Quality::Lost, 0};
    return current_;
  }
  int s = score(sample);
  if (current_.quality != Quality::Lost) s = static_cast<int>(std::lround((s + current_.score) / 2.0));
  Quality next = band(s);
  // Better than now (Lost counts as the worst): only with a margin past the threshold.
  auto rank = [](Quality q) { return q == Quality::Lost ? 3 : static_cast<int>(q); };
  if (rank(next) < rank(current_.quality) && current_.quality != Quality::Lost) {
    next = band(s - Hysteresis);
    if (rank(next) > rank(current_.quality)) next = current_.quality;
  }
  current_ = {next, s};
  return current_;
}

}  // namespace meeting::sfu
