// A parallel-for over independent tasks on libtorch's own OpenMP runtime. The extension is linked against the libgomp
// that ships beside libtorch_cpu.so (same soname, already loaded when this library is), so its parallel regions run
// on the very thread team at::parallel_for uses: no threads are started per call, and no second pool spins against
// libtorch's idle workers on the same cores. The caller passes the thread count (Java hands in libtorch's intra-op
// thread count).
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace mplug {

// Runs body(workspace, task) for task in [0, tasks) on up to `threads` threads (the calling thread is one of them),
// tasks handed out one at a time. Each thread owns one Workspace, kept across calls (thread_local on the team's
// long-lived threads), so scratch buffers are allocated once. `body` must not throw.
template <class Workspace, class Body>
void parallel_tasks(int64_t tasks, int32_t threads, Body body) {
  const int n = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, tasks)));
#pragma omp parallel num_threads(n)
  {
    static thread_local Workspace ws;
#pragma omp for schedule(dynamic, 1)
    for (int64_t t = 0; t < tasks; ++t) body(ws, t);
  }
}

}  // namespace mplug
