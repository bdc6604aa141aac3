#pragma once
// Per-consumer rewriting of RTP sequence numbers and timestamps, so that a subscriber sees one
// continuous stream while its source changes underneath: the publisher restarts with a new SSRC,
// a simulcast layer switch, or a pause (mute, layer off) and resume.
//
// Within one source the offsets never change, so upstream losses stay gaps the subscriber can
// NACK and reordering reaches it unchanged. On a change of source (or after resume()) the next
// output sequence number is last + 1 and the timestamp moves on from the last output timestamp
// by the wall-clock time since the last forwarded packet (RFC 3550 §5.1: the timestamp clock is
// linear in time), so jitter buffers and players see neither a jump nor a step back.
//
// Fixed-size state, no allocation, no locks: one instance per consumer on the worker's loop.
#include <cstdint>
#include <optional>

#include "common/Clock.hpp"

namespace meeting::sfu {

class StreamRewriter {
 public:
  struct Rewritten {
    uint16_t sequence = 0;
    uint32_t timestamp = 0;
    bool operator==(const Rewritten&) const = default;
  };

  struct Counters {
    uint64_t forwarded = 0;
    uint64_t droppedOld = 0;     ///< older than the first packet of their source (or a late one of the previous source)
    uint64_t droppedPaused = 0;  ///< arrived while paused
    uint64_t sourceChanges = 0;  ///< switches of source, resumes included (not the very first packet)
  };

  /// A late packet of the previous source is recognised (and dropped) only this long after the
  /// switch; after that the old SSRC coming back is a switch back.
  static constexpr Duration PreviousSourceMemory = std::chrono::seconds(2);
  /// RFC 3550 A.1 style: two consecutive packets of the current SSRC that are both older than its
  /// first forwarded one mean the sender restarted its sequence numbers, not a late packet.
  static constexpr uint32_t RestartProbation = 2;

  /// `clockRate`: the RTP timestamp clock (90000 for video, 48000 for Opus).
  explicit StreamRewriter(uint32_t clockRate);

  /// The numbers to send `sequence`/`timestamp` of `sourceSsrc` with, or nothing to drop it
  /// (paused, or a late packet the output has already moved past). The first packet ever is
  /// forwarded unchanged.
  std::optional<Rewritten> rewrite(uint32_t sourceSsrc, uint16_t sequence, uint32_t timestamp, TimePoint arrival);

  /// Drops everything until resume(); what is dropped leaves no gap in the output.
  void pause() { paused_ = true; }
  /// Forwards again; the next packet (of any source) starts a new segment at last + 1. Also the
  /// way to force a resync when the caller knows the source changed without an SSRC change.
  void resume();
  bool paused() const { return paused_; }

  /// True once a packet has been forwarded.
  bool started() const { return started_; }
  /// The SSRC of the source being forwarded (meaningful once started()).
  uint32_t source() const { return source_.ssrc; }
  /// RTP timestamp of the current source -> output timestamp, e.g. for the RTP time of a sender
  /// report (RFC 3550 §6.4.1) of that source. Check source() first: other sources have other offsets.
  uint32_t translateTimestamp(uint32_t sourceTimestamp) const { return sourceTimestamp + tsOffset_; }
  /// The highest output sequence number so far (reordered packets do not move it back).
  uint16_t lastSequence() const { return static_cast<uint16_t>(lastOutSeq_); }
  /// The output timestamp of the packet with the highest output sequence number.
  uint32_t lastTimestamp() const { return lastOutTs_; }
  const Counters& counters() const { return counters_; }

 private:
  struct Source {
    uint32_t ssrc = 0;
    int64_t firstExt = 0;  // extended sequence number of the first packet forwarded from it
    int64_t maxExt = 0;    // highest extended sequence number seen from it
  };

  // Extended (wrap-free) sequence number of `sequence` relative to the source's highest.
  static int64_t extend(const Source& s, uint16_t sequence);
  void startSegment(uint32_t ssrc, uint16_t sequence, uint32_t timestamp, TimePoint arrival);
  bool isLateFromPrevious(uint32_t ssrc, uint16_t sequence, TimePoint arrival) const;
  Rewritten emit(int64_t ext, uint32_t timestamp, TimePoint arrival);

  uint32_t clockRate_;
  bool started_ = false;
  bool paused_ = false;
  bool resync_ = false;  // the next packet starts a new segment even from the same SSRC
  Source source_;
  Source previous_;
  bool havePrevious_ = false;
  TimePoint switchedAt_{};
  int64_t seqOffset_ = 0;  // extended output = extended input + seqOffset_ (for this segment)
  uint32_t tsOffset_ = 0;
  // Output side: the highest extended output sequence number and its timestamp and arrival.
  int64_t lastOutSeq_ = 0;
  uint32_t lastOutTs_ = 0;
  TimePoint lastOutArrival_{};
  // Restart detection within one SSRC.
  uint16_t probationNext_ = 0;
  uint32_t probationCount_ = 0;
  Counters counters_;
};

}  // namespace meeting::sfu
