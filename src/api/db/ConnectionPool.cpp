#include "api/db/ConnectionPool.hpp"

#include "api/db/Storage.hpp"

namespace meeting::api::db {

ConnectionPool::Lease::~Lease() {
  if (pool_ != nullptr) pool_->release(std::move(conn_), std::chrono::steady_clock::now() - since_);
}

ConnectionPool::ConnectionPool(Factory factory, size_t maxSize, std::chrono::milliseconds waitLimit)
    : factory_(std::move(factory)),
      maxSize_(maxSize == 0 ? 1 : maxSize),
      waitLimit_(waitLimit),
      latency_(MetricsRegistry::global().histogram(
          "meeting_db_operation_duration_seconds",
          "Time a storage operation held its database connection (its statements or transaction)",
          {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5})) {}

Result<ConnectionPool::Lease> ConnectionPool::acquire() {
  {
    std::unique_lock lock(mutex_);
    bool ready = freed_.wait_for(lock, waitLimit_, [&] { return !idle_.empty() || open_ < maxSize_; });
    if (!ready) return makeError(errc::Unavailable, "database connection pool exhausted");
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(conn));
    }
    ++open_;  // reserve the slot, then connect without holding the lock
  }
  auto conn = factory_();
  if (!conn.ok()) {
    std::lock_guard lock(mutex_);
    --open_;
    freed_.notify_one();
    return conn.error();
  }
  return Lease(this, std::move(conn).value());
}

void ConnectionPool::release(std::unique_ptr<SqlConnection> conn, std::chrono::steady_clock::duration held) {
  latency_.observe(std::chrono::duration<double>(held).count());
  std::unique_ptr<SqlConnection> closing;
  {
    std::lock_guard lock(mutex_);
    if (conn && !conn->broken()) {
      idle_.push_back(std::move(conn));
    } else {
      closing = std::move(conn);
      --open_;
    }
  }
  freed_.notify_one();
  // `closing` (if any) is destroyed here, outside the lock.
}

void ConnectionPool::closeIdle() {
  std::vector<std::unique_ptr<SqlConnection>> closing;
  {
    std::lock_guard lock(mutex_);
    open_ -= idle_.size();
    closing.swap(idle_);
  }
  freed_.notify_all();
}

}  // namespace meeting::api::db
