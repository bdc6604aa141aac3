#pragma once
// The small thread pool that runs database calls, so blocking storage I/O never runs on a media
// or HTTP loop. post() queues work (bounded: a full queue refuses, the caller answers "busy");
// the completion callback runs on the DB thread and is expected to hand the result back to the
// caller's own loop (e.g. `[&loop](auto r) { loop.post(...); }`).
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace meeting::api::db {

class DbExecutor {
 public:
  /// Starts `threads` workers; at most `maxQueued` jobs wait at a time.
  DbExecutor(size_t threads, size_t maxQueued);
  /// Same as shutdown().
  ~DbExecutor();
  DbExecutor(const DbExecutor&) = delete;
  DbExecutor& operator=(const DbExecutor&) = delete;

  /// Queues `work()` and then `done(result)` on a DB thread. Both may be move-only. Returns false
  /// (and runs neither) when the queue is full or the executor is shutting down.
  template <typename Work, typename Done>
  bool post(Work work, Done done) {
    return enqueue(std::make_unique<Job<Work, Done>>(std::move(work), std::move(done)));
  }

  /// Queues a job without a completion callback.
  template <typename Work>
  bool post(Work work) {
    return post(std::move(work), [](auto&&...) {});
  }

  /// Stops accepting jobs, runs the ones already queued, and joins the threads. Idempotent. Must
  /// not be called from a DB thread.
  void shutdown();

  /// Jobs waiting (not counting running ones).
  size_t queued() const;

 private:
  struct Task {
    virtual ~Task() = default;
    virtual void run() = 0;
  };
  template <typename Work, typename Done>
  struct Job final : Task {
    Job(Work w, Done d) : work(std::move(w)), done(std::move(d)) {}
    void run() override {
      if constexpr (std::is_void_v<std::invoke_result_t<Work&>>) {
        work();
        done();
      } else {
        done(work());
      }
    }
    Work work;
    Done done;
  };

  bool enqueue(std::unique_ptr<Task> task);
  void workerLoop();

  const size_t maxQueued_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<Task>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace meeting::api::db
