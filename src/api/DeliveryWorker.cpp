#include "api/DeliveryWorker.hpp"

#include <algorithm>
#include <cmath>

namespace meeting::api {

DeliveryWorker::DeliveryWorker(std::string name, const Clock& clock, Pass pass)
    : name_(std::move(name)), clock_(clock), pass_(std::move(pass)), random_(std::random_device{}()) {}

DeliveryWorker::~DeliveryWorker() { stop(); }

void DeliveryWorker::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void DeliveryWorker::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DeliveryWorker::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wake_.notify_one();
}

bool DeliveryWorker::stopping() const {
  std::lock_guard lock(mutex_);
  return stopping_;
}

void DeliveryWorker::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    woken_ = false;
    lock.unlock();
    auto wait = pass_();
    lock.lock();
    if (wait.count() > 0) wake_.wait_for(lock, wait, [this] { return stopping_ || woken_; });
  }
}

std::chrono::milliseconds DeliveryWorker::nextBackoff(int failures, std::chrono::milliseconds base,
                                                      std::chrono::milliseconds max) {
  double unit = 0;
  {
    std::lock_guard lock(randomMutex_);
    unit = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
  }
  return backoff(failures, base, max, unit);
}

std::chrono::milliseconds DeliveryWorker::backoff(int failures, std::chrono::milliseconds base,
                                                  std::chrono::milliseconds max, double unit) {
  const double exponent = std::clamp(failures - 1, 0, 40);
  const double full = std::min(static_cast<double>(max.count()), static_cast<double>(base.count()) * std::exp2(exponent));
  const double jittered = full / 2 + full / 2 * std::clamp(unit, 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<int64_t>(jittered));
}

}  // namespace meeting::api
