// A minimal parallel-for over independent tasks on std::threads. The extension has no ATen headers, so
// at::parallel_for is out of reach; a second OpenMP runtime next to libtorch's bundled libgomp would spin against it.
// The caller passes the thread count (Java hands in libtorch's intra-op thread count).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace mplug {

// Runs body(workspace, task) for task in [0, tasks) on up to `threads` threads (the calling thread is one of them).
// Each thread owns one Workspace, default-constructed, reused across its tasks (scratch buffers).
template <class Workspace, class Body>
void parallel_tasks(int64_t tasks, int32_t threads, Body body) {
  const int64_t n = std::max<int64_t>(1, std::min<int64_t>(threads, tasks));
  std::atomic<int64_t> next{0};
  auto worker = [&]() {
    Workspace ws;
    for (int64_t t = next.fetch_add(1); t < tasks; t = next.fetch_add(1)) body(ws, t);
  };
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(n - 1));
  for (int64_t i = 1; i < n; ++i) pool.emplace_back(worker);
  worker();
  for (auto &t : pool) t.join();
}

}  // namespace mplug
