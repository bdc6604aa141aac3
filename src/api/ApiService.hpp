#pragma once
// The apiserver role as an app::Service: opens the database, serves /api/v1 and the control
// link, places rooms (allocate server or built-in allocator). Front door of the api module for
// src/app/ServiceRegistry.cpp.
#include <memory>
#include <string>

#include "app/Service.hpp"

namespace meeting::api {

struct ApiServiceOptions {
  /// The all-in-one: create and print an API key on first start (kept in the data folder).
  bool bootstrapApiKey = false;
  /// An fsserver runs in this process (`meeting all`): file uploads go to it, at the public URL,
  /// when no fsserver is allocated or registered.
  bool localFsServer = false;
};

std::unique_ptr<app::Service> makeApiService(const Config& config, ApiServiceOptions options);

}  // namespace meeting::api
