#pragma once
// `meeting allocateserver`: the reference implementation of seed 001's allocate contract.
//   GET <path>?Kind=SFUTURN&Email=..&BeginAt=..&EndAt=..  ->  {"sfu": "...", "turn": "..."}
//   GET <path>?Kind=FS&Email=..                           ->  {"fs": "..."}
// The pool and strategy come from `<data>/allocator.json` (or $MEETING_ALLOCATOR_CONFIG);
// see docs/allocator.md. When every sfu is full it answers 503: the apiserver tells the client
// to retry shortly, as seed 001 describes.
#include <memory>

#include "allocator/AllocationPool.hpp"
#include "app/Service.hpp"
#include "common/Clock.hpp"

namespace meeting::allocator {

/// Adds the contract route for `pool` to `router` (time from `clock`).
void addAllocateRoute(net::HttpRouter& router, std::shared_ptr<AllocationPool> pool, const Clock& clock);

std::unique_ptr<app::Service> makeAllocateService(const Config& config);

}  // namespace meeting::allocator
