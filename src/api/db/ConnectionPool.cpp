#include "api/db/ConnectionPool.hpp"

#include "api/db/Storage.hpp"

namespace meeting::api::db {

ConnectionPool::Lease::~Lease() {
  if (pool_ != nullptr) pool_->release(std::move(conn_));
}

ConnectionPool::ConnectionPool(Factory factory, size_t maxSize, std::chrono::milliseconds waitLimit)
    : factory_(std::move(factory)), maxSize_(maxSize == 0 ? 1 : maxSize), waitLimit_(waitLimit) {}

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

void ConnectionPool::release(std::unique_ptr<SqlConnection> conn) {
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
