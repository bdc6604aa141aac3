#pragma once
// A small pool of database connections shared by the DB threads. Connections are opened lazily up
// to `maxSize`; a caller waits (bounded) when all are in use. A connection that reported itself
// broken (server gone) is closed on return instead of being reused.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "api/db/SqlConnection.hpp"
#include "common/Metrics.hpp"

namespace meeting::api::db {

class ConnectionPool {
 public:
  using Factory = std::function<Result<std::unique_ptr<SqlConnection>>()>;

  /// RAII hand-out: returns the connection to the pool when destroyed.
  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<SqlConnection> conn)
        : pool_(pool), conn_(std::move(conn)), since_(std::chrono::steady_clock::now()) {}
    Lease(Lease&& other) noexcept : pool_(other.pool_), conn_(std::move(other.conn_)), since_(other.since_) {
      other.pool_ = nullptr;
    }
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    ~Lease();
    SqlConnection& operator*() const { return *conn_; }
    SqlConnection* operator->() const { return conn_.get(); }
    /// Closes the connection instead of returning it (the slot is freed when the lease ends).
    void discard() { conn_.reset(); }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<SqlConnection> conn_;
    // When the connection was handed out: the lease's length is one storage operation's
    // database time (its statements or its transaction), observed on release.
    std::chrono::steady_clock::time_point since_;
  };

  ConnectionPool(Factory factory, size_t maxSize,
                 std::chrono::milliseconds waitLimit = std::chrono::seconds(10));
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  /// An idle connection, a new one, or `unavailable` after waiting `waitLimit` / failing to connect.
  Result<Lease> acquire();
  /// Closes idle connections (they are reopened on demand).
  void closeIdle();

 private:
  void release(std::unique_ptr<SqlConnection> conn, std::chrono::steady_clock::duration held);

  Factory factory_;
  size_t maxSize_;
  std::chrono::milliseconds waitLimit_;
  std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<SqlConnection>> idle_;
  size_t open_ = 0;  // idle + leased
  Histogram& latency_;  // meeting_db_operation_duration_seconds on /metrics
};

}  // namespace meeting::api::db
