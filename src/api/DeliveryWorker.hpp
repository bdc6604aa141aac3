#pragma once
// The delivery thread shared by the database-backed queues (webhooks, invitation mail). Both keep
// one ordered queue per key in a table and send the head of each queue when it is due; what is
// common lives here: the thread, waking it on new rows, stopping it between two sends, one pass
// over the queue heads (earliest due first, a storage error means "look again shortly"), and the
// exponential back-off with jitter for the next attempt. What a send is stays with the owner.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/Clock.hpp"
#include "common/Log.hpp"
#include "common/Result.hpp"

namespace meeting::api {

class DeliveryWorker {
 public:
  /// One pass over the queues, on the delivery thread; returns how long to sleep before the next
  /// (0: look again at once). A wake() or stop() cuts the sleep short.
  using Pass = std::function<std::chrono::milliseconds()>;

  /// `name` prefixes log lines ("webhook", "mail"); `clock` gives the Unix time rows are due at
  /// and must outlive the worker.
  DeliveryWorker(std::string name, const Clock& clock, Pass pass);
  ~DeliveryWorker();
  DeliveryWorker(const DeliveryWorker&) = delete;
  DeliveryWorker& operator=(const DeliveryWorker&) = delete;

  /// Starts the thread (its first pass runs at once: rows left from before a restart go first).
  void start();
  /// Stops after the attempt in flight; undelivered rows stay in the database.
  void stop();
  /// Any thread: new rows are queued, run a pass now.
  void wake();
  bool stopping() const;

  /// Attempts every due row of `heads` (queue heads, earliest due first; Row has `nextAttemptAt`
  /// in Unix ms) with `attempt`, stopping early on stop(). Returns the sleep before the next pass:
  /// 0 after any attempt (the next row of a queue may now be its head), else until the first row
  /// falls due, at most `idle`; a short pause when the heads could not be read.
  template <typename Row, typename Attempt>
  std::chrono::milliseconds attemptDue(const Result<std::vector<Row>>& heads, std::chrono::milliseconds idle,
                                       Attempt&& attempt) {
    if (!heads) {
      MLOG_WARN("{}: cannot read the queue: {}", name_, heads.error().message);
      return StorageRetry;
    }
    bool worked = false;
    for (const Row& row : *heads) {
      if (stopping()) return std::chrono::milliseconds(0);
      const int64_t now = nowMs();
      if (row.nextAttemptAt > now) {
        // Heads come earliest first: the rest wait at least this long.
        idle = std::min(idle, std::chrono::milliseconds(row.nextAttemptAt - now));
        break;
      }
      attempt(row);
      worked = true;
    }
    return worked ? std::chrono::milliseconds(0) : idle;
  }

  /// The wait before the next attempt after `failures` (>= 1) failures, with fresh jitter
  /// (thread-safe).
  std::chrono::milliseconds nextBackoff(int failures, std::chrono::milliseconds base, std::chrono::milliseconds max);

  /// Puts a row back for another attempt after the back-off of `failures` failures:
  /// `reschedule(dueAtMs)` stores the new due time. Returns the wait, or nullopt when the row
  /// could not be stored (logged with `what`; the row is then attempted again at its old time).
  template <typename Reschedule>
  std::optional<std::chrono::milliseconds> retryLater(int64_t failures, std::chrono::milliseconds base,
                                                      std::chrono::milliseconds max, Reschedule&& reschedule,
                                                      const std::string& what) {
    const auto wait = nextBackoff(static_cast<int>(failures), base, max);
    if (Result<void> stored = reschedule(nowMs() + wait.count()); !stored) {
      MLOG_WARN("{}: cannot reschedule {}: {}", name_, what, stored.error().message);
      return std::nullopt;
    }
    return wait;
  }

  /// Wait after `failures` failed attempts (>= 1): min(max, base * 2^(failures-1)) scaled into
  /// [1/2, 1] by `unit` in [0, 1) ("equal jitter", so receivers coming back are not hit in step).
  static std::chrono::milliseconds backoff(int failures, std::chrono::milliseconds base, std::chrono::milliseconds max,
                                           double unit);

  int64_t nowMs() const { return clock_.wallMicros() / 1000; }

  /// Pause after the queue could not be read.
  static constexpr std::chrono::milliseconds StorageRetry{1000};

 private:
  void run();

  std::string name_;
  const Clock& clock_;
  Pass pass_;
  std::mutex randomMutex_;
  std::mt19937_64 random_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool woken_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace meeting::api
