#include "api/db/DbExecutor.hpp"

namespace meeting::api::db {

DbExecutor::DbExecutor(size_t threads, size_t maxQueued) : maxQueued_(maxQueued == 0 ? 1 : maxQueued) {
  if (threads == 0) threads = 1;
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { workerLoop(); });
}

DbExecutor::~DbExecutor() { shutdown(); }

bool DbExecutor::enqueue(std::unique_ptr<Task> task) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= maxQueued_) return false;
    queue_.push_back(std::move(task));
  }
  wake_.notify_one();
  return true;
}

void DbExecutor::workerLoop() {
  for (;;) {
    std::unique_ptr<Task> task;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task->run();
  }
}

void DbExecutor::shutdown() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

size_t DbExecutor::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

}  // namespace meeting::api::db
