// SwarmRT benchmark peer for the C++ Actor Framework (CAF 0.17).
//
// One program, sub-commands as specified in bench/WORKLOADS.md:
//
//     caf_bench <workload> <schedulers> <size>
//
// Prints exactly one `result ...` line on success. Exit codes:
//   0  success
//   1  runtime failure (wrong checksum, timeout, ...): `error ...` line
//   2  usage error (bad arguments, unknown workload): `error ...` line
//   3  workload not applicable to CAF (`yield`): `error unsupported`
//
// Every "process" is a scheduled, event-based CAF actor (function-based,
// `event_based_actor` or `stateful_actor<State>`). The main thread talks to
// the actors through a (hidden) `scoped_actor`. CAF never sees argv; the
// scheduler thread count is set programmatically via `scheduler.max-threads`.
//
// Build: g++ -std=c++17 -O2 -o caf_bench caf_bench.cpp -lcaf_core -pthread

#include <caf/all.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace caf;

// CAF predefines ping_atom, pong_atom, get_atom and tick_atom; the rest are ours.
using stop_atom = atom_constant<atom("stop")>;
using done_atom = atom_constant<atom("done")>;
using ready_atom = atom_constant<atom("ready")>;
using go_atom = atom_constant<atom("go")>;
using fail_atom = atom_constant<atom("fail")>;

namespace {

// ---------------------------------------------------------------------------
// Measurement helpers
// ---------------------------------------------------------------------------

int64_t wall_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

int64_t cpu_now_ns() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto tv_ns = [](const timeval& tv) {
    return static_cast<int64_t>(tv.tv_sec) * 1000000000 +
           static_cast<int64_t>(tv.tv_usec) * 1000;
  };
  return tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime);
}

// Resident set size in bytes, from /proc/self/statm (second field, pages).
int64_t rss_bytes() {
  std::ifstream in("/proc/self/statm");
  int64_t size_pages = 0;
  int64_t resident_pages = 0;
  if (!(in >> size_pages >> resident_pages))
    return -1;
  return resident_pages * static_cast<int64_t>(sysconf(_SC_PAGESIZE));
}

// Outcome of one workload run, filled in by the workload function.
struct outcome {
  int64_t checksum = 0;
  int64_t expected = 0;
  int64_t ops = 0;
  std::string extra; // additional " key=value" pairs
  std::string error; // non-empty on failure
};

// Measures wall and CPU time around the workload body.
struct stopwatch {
  int64_t wall0 = wall_now_ns();
  int64_t cpu0 = cpu_now_ns();
  int64_t wall_ns = 0;
  int64_t cpu_ns = 0;
  void stop() {
    wall_ns = wall_now_ns() - wall0;
    cpu_ns = cpu_now_ns() - cpu0;
  }
};

// Upper bound for any single wait of the main thread; a hang becomes an error.
constexpr auto main_wait_limit = std::chrono::seconds(600);

// Receives `count` integers on the main thread's scoped actor and sums them.
// Returns false (and sets `err`) on a timeout or a failure report.
bool collect_sum(scoped_actor& self, int64_t count, int64_t& sum,
                 std::string& err) {
  for (int64_t i = 0; i < count; ++i) {
    bool ok = true;
    self->receive(
      [&](int64_t x) { sum += x; },
      [&](fail_atom, const std::string& what) {
        err = what;
        ok = false;
      },
      after(main_wait_limit) >> [&] {
        err = "timeout waiting for results";
        ok = false;
      });
    if (!ok)
      return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// pingpong: two actors, N round trips of one integer
// ---------------------------------------------------------------------------

behavior pong_actor(event_based_actor* self) {
  return {
    // Returning a value sends it back to the sender.
    [](int64_t x) { return x; },
    [=](stop_atom) { self->quit(); },
  };
}

behavior ping_actor(event_based_actor* self, actor pong, actor main_actor,
                    int64_t n) {
  self->send(pong, int64_t{1});
  return {
    [=](int64_t x) {
      if (x < n) {
        self->send(pong, x + 1);
      } else {
        self->send(main_actor, x);
        self->send(pong, stop_atom::value);
        self->quit();
      }
    },
  };
}

void run_pingpong(actor_system& sys, scoped_actor& self, bool full,
                  outcome& out) {
  const int64_t n = full ? 1000000 : 100000;
  auto pong = sys.spawn(pong_actor);
  sys.spawn(ping_actor, pong, actor{self}, n);
  int64_t rounds = 0;
  if (collect_sum(self, 1, rounds, out.error))
    out.checksum = rounds;
  out.expected = n;
  out.ops = n;
}

// ---------------------------------------------------------------------------
// timer_churn: pingpong where every receive carries a 1 s receive timeout.
// CAF re-arms the `after` timeout whenever the actor runs out of messages,
// i.e. once per message here; a fired timeout is a failure.
// ---------------------------------------------------------------------------

behavior timed_pong_actor(event_based_actor* self, actor main_actor) {
  return {
    [](int64_t x) { return x; },
    [=](stop_atom) { self->quit(); },
    after(std::chrono::seconds(1)) >>
      [=] {
        self->send(main_actor, fail_atom::value,
                   std::string("pong receive timed out"));
        self->quit();
      },
  };
}

behavior timed_ping_actor(event_based_actor* self, actor pong,
                          actor main_actor, int64_t n) {
  self->send(pong, int64_t{1});
  return {
    [=](int64_t x) {
      if (x < n) {
        self->send(pong, x + 1);
      } else {
        self->send(main_actor, x);
        self->send(pong, stop_atom::value);
        self->quit();
      }
    },
    after(std::chrono::seconds(1)) >>
      [=] {
        self->send(main_actor, fail_atom::value,
                   std::string("ping receive timed out"));
        self->send(pong, stop_atom::value);
        self->quit();
      },
  };
}

void run_timer_churn(actor_system& sys, scoped_actor& self, bool full,
                     outcome& out) {
  const int64_t n = full ? 1000000 : 100000;
  auto pong = sys.spawn(timed_pong_actor, actor{self});
  sys.spawn(timed_ping_actor, pong, actor{self}, n);
  int64_t rounds = 0;
  if (collect_sum(self, 1, rounds, out.error))
    out.checksum = rounds;
  out.expected = n;
  out.ops = n;
}

// ---------------------------------------------------------------------------
// counting: producer sends 1..N to a counter, then requests the total
// ---------------------------------------------------------------------------

struct counter_state {
  int64_t sum = 0;
};

behavior counter_actor(stateful_actor<counter_state>* self) {
  return {
    [=](int64_t x) { self->state.sum += x; },
    [=](get_atom) { return self->state.sum; },
    [=](stop_atom) { self->quit(); },
  };
}

behavior producer_actor(event_based_actor* self, actor counter,
                        actor main_actor, int64_t n) {
  for (int64_t i = 1; i <= n; ++i)
    self->send(counter, i);
  // Messages from one sender arrive in order, so the reply covers all of them.
  self->request(counter, infinite, get_atom::value).then([=](int64_t total) {
    self->send(main_actor, total);
    self->send(counter, stop_atom::value);
    self->quit();
  });
  return {};
}

void run_counting(actor_system& sys, scoped_actor& self, bool full,
                  outcome& out) {
  const int64_t n = full ? 10000000 : 1000000;
  auto counter = sys.spawn(counter_actor);
  sys.spawn(producer_actor, counter, actor{self}, n);
  int64_t total = 0;
  if (collect_sum(self, 1, total, out.error))
    out.checksum = total;
  out.expected = n * (n + 1) / 2;
  out.ops = n;
}

// ---------------------------------------------------------------------------
// mailbox: S senders each send 1..M to one receiver (N:1)
// ---------------------------------------------------------------------------

struct sink_state {
  int64_t sum = 0;
  int64_t received = 0;
};

behavior sink_actor(stateful_actor<sink_state>* self, int64_t expected,
                    actor main_actor) {
  return {
    [=](int64_t x) {
      auto& st = self->state;
      st.sum += x;
      if (++st.received == expected) {
        self->send(main_actor, st.sum);
        self->quit();
      }
    },
  };
}

// A function-based actor without behavior terminates after its init code.
void source_actor(event_based_actor* self, actor sink, int64_t m) {
  for (int64_t i = 1; i <= m; ++i)
    self->send(sink, i);
}

void run_mailbox(actor_system& sys, scoped_actor& self, bool full,
                 outcome& out) {
  const int64_t s = full ? 100 : 10;
  const int64_t m = 100000;
  auto sink = sys.spawn(sink_actor, s * m, actor{self});
  for (int64_t i = 0; i < s; ++i)
    sys.spawn(source_actor, sink, m);
  int64_t total = 0;
  if (collect_sum(self, 1, total, out.error))
    out.checksum = total;
  out.expected = s * (m * (m + 1) / 2);
  out.ops = s * m;
}

// ---------------------------------------------------------------------------
// ring: 503 actors pass a decrementing token around
// ---------------------------------------------------------------------------

constexpr int64_t ring_size = 503;

struct ring_state {
  actor next;
};

behavior ring_node(stateful_actor<ring_state>* self, int64_t index,
                   actor main_actor) {
  // First message: the handle of the successor, then switch to the ring role.
  return {
    [=](actor next) {
      self->state.next = std::move(next);
      self->become(
        [=](int64_t token) {
          if (token > 0) {
            self->send(self->state.next, token - 1);
          } else {
            self->send(main_actor, index);
            self->send(self->state.next, stop_atom::value);
            self->quit();
          }
        },
        [=](go_atom, int64_t token) { self->send(self->state.next, token); },
        [=](stop_atom) {
          self->send(self->state.next, stop_atom::value);
          self->quit();
        });
    },
  };
}

void run_ring(actor_system& sys, scoped_actor& self, bool full, outcome& out) {
  const int64_t h = full ? 10000000 : 1000000;
  std::vector<actor> nodes;
  nodes.reserve(ring_size);
  for (int64_t i = 0; i < ring_size; ++i)
    nodes.push_back(sys.spawn(ring_node, i, actor{self}));
  for (int64_t i = 0; i < ring_size; ++i)
    self->send(nodes[i], nodes[(i + 1) % ring_size]);
  // The starter (index 0) sends H to index 1.
  self->send(nodes[0], go_atom::value, h);
  nodes.clear(); // the ring keeps itself alive until the stop wave passes
  int64_t index = 0;
  if (collect_sum(self, 1, index, out.error))
    out.checksum = index;
  out.expected = (h + 1) % ring_size;
  out.ops = h;
}

// ---------------------------------------------------------------------------
// spawn: the standard form: main spawns all N children at once, as it spawns
// the actors of the other workloads; each sends its index to a counter
// actor, which reports the total to main once it has N
// ---------------------------------------------------------------------------

void child_actor(event_based_actor* self, actor parent, int64_t index) {
  self->send(parent, index);
}

void run_spawn(actor_system& sys, scoped_actor& self, bool full,
               outcome& out) {
  const int64_t n = full ? 1000000 : 100000;
  auto counter = sys.spawn(sink_actor, n, actor{self}); // sums n indexes (mailbox's sink)
  for (int64_t i = 0; i < n; ++i)
    sys.spawn(child_actor, counter, i);
  int64_t sum = 0;
  if (collect_sum(self, 1, sum, out.error))
    out.checksum = sum;
  out.expected = n * (n - 1) / 2;
  out.ops = n;
}

// ---------------------------------------------------------------------------
// spawn_batched: a parent spawns N children in batches of at most 10,000;
// each child sends its index to the parent and terminates
// ---------------------------------------------------------------------------

constexpr int64_t spawn_batch = 10000;

struct parent_state {
  int64_t next = 0;        // next index to spawn
  int64_t outstanding = 0; // children of the current batch not yet heard from
  int64_t received = 0;
  int64_t sum = 0;
};

void spawn_next_batch(stateful_actor<parent_state>* self, int64_t n) {
  auto& st = self->state;
  auto me = actor_cast<actor>(self);
  int64_t end = std::min(st.next + spawn_batch, n);
  st.outstanding = end - st.next;
  for (; st.next < end; ++st.next)
    self->spawn(child_actor, me, st.next);
}

behavior parent_actor(stateful_actor<parent_state>* self, int64_t n,
                      actor main_actor) {
  spawn_next_batch(self, n);
  return {
    [=](int64_t index) {
      auto& st = self->state;
      st.sum += index;
      ++st.received;
      if (st.received == n) {
        self->send(main_actor, st.sum);
        self->quit();
      } else if (--st.outstanding == 0) {
        spawn_next_batch(self, n);
      }
    },
  };
}

void run_spawn_batched(actor_system& sys, scoped_actor& self, bool full,
                       outcome& out) {
  const int64_t n = full ? 1000000 : 100000;
  sys.spawn(parent_actor, n, actor{self});
  int64_t sum = 0;
  if (collect_sum(self, 1, sum, out.error))
    out.checksum = sum;
  out.expected = n * (n - 1) / 2;
  out.ops = n;
}

// ---------------------------------------------------------------------------
// skynet: 10-ary tree of actors, leaves report their number, nodes sum up
// ---------------------------------------------------------------------------

struct tree_state {
  int64_t sum = 0;
  int64_t pending = 0;
};

behavior skynet_actor(stateful_actor<tree_state>* self, actor parent,
                      int64_t num, int64_t size) {
  if (size == 1) {
    self->send(parent, num);
    return {}; // no behavior: the leaf terminates
  }
  auto me = actor_cast<actor>(self);
  const int64_t sub = size / 10;
  for (int64_t k = 0; k < 10; ++k)
    self->spawn(skynet_actor, me, num + k * sub, sub);
  self->state.pending = 10;
  return {
    [=](int64_t x) {
      auto& st = self->state;
      st.sum += x;
      if (--st.pending == 0) {
        self->send(parent, st.sum);
        self->quit();
      }
    },
  };
}

void run_skynet(actor_system& sys, scoped_actor& self, bool full,
                outcome& out) {
  const int64_t leaves = full ? 1000000 : 100000;
  sys.spawn(skynet_actor, actor{self}, int64_t{0}, leaves);
  int64_t sum = 0;
  if (collect_sum(self, 1, sum, out.error))
    out.checksum = sum;
  out.expected = leaves * (leaves - 1) / 2;
  out.ops = (leaves * 10 - 1) / 9; // 1 + 10 + ... + leaves
}

// ---------------------------------------------------------------------------
// fib: fork-join, every fib(k) call is an actor
// ---------------------------------------------------------------------------

behavior fib_actor(stateful_actor<tree_state>* self, actor parent, int64_t n) {
  if (n < 2) {
    self->send(parent, n);
    return {};
  }
  auto me = actor_cast<actor>(self);
  self->spawn(fib_actor, me, n - 1);
  self->spawn(fib_actor, me, n - 2);
  self->state.pending = 2;
  return {
    [=](int64_t x) {
      auto& st = self->state;
      st.sum += x;
      if (--st.pending == 0) {
        self->send(parent, st.sum);
        self->quit();
      }
    },
  };
}

void run_fib(actor_system& sys, scoped_actor& self, bool full, outcome& out) {
  const int64_t n = full ? 27 : 20;
  sys.spawn(fib_actor, actor{self}, n);
  int64_t value = 0;
  if (collect_sum(self, 1, value, out.error))
    out.checksum = value;
  int64_t a = 0, b = 1; // fib(0), fib(1)
  for (int64_t i = 0; i < n; ++i) {
    int64_t c = a + b;
    a = b;
    b = c;
  }
  out.expected = a;
  // One actor per call of the naive recursion, root included: 2*fib(n+1)-1.
  out.ops = 2 * b - 1;
}

// ---------------------------------------------------------------------------
// primes: 64 worker actors count primes by trial division, main sums
// ---------------------------------------------------------------------------

bool is_prime(int64_t n) {
  if (n < 2)
    return false;
  if (n == 2)
    return true;
  if (n % 2 == 0)
    return false;
  for (int64_t d = 3; d * d <= n; d += 2)
    if (n % d == 0)
      return false;
  return true;
}

void prime_worker(event_based_actor* self, actor main_actor, int64_t lo,
                  int64_t hi) {
  int64_t count = 0;
  for (int64_t i = lo; i < hi; ++i)
    if (is_prime(i))
      ++count;
  self->send(main_actor, count);
}

void run_primes(actor_system& sys, scoped_actor& self, bool full,
                outcome& out) {
  const int64_t l = full ? 20000000 : 2000000;
  constexpr int64_t chunks = 64;
  for (int64_t k = 0; k < chunks; ++k)
    sys.spawn(prime_worker, actor{self}, 2 + k * (l - 2) / chunks,
              2 + (k + 1) * (l - 2) / chunks);
  int64_t count = 0;
  if (collect_sum(self, chunks, count, out.error))
    out.checksum = count;
  out.expected = full ? 1270607 : 148933;
  out.ops = l;
}

// ---------------------------------------------------------------------------
// sleepers: P actors each sleep 10 ms K times (delayed message to self)
// ---------------------------------------------------------------------------

struct sleeper_state {
  int64_t naps = 0;
};

behavior sleeper_actor(stateful_actor<sleeper_state>* self, actor main_actor,
                       int64_t k) {
  constexpr auto nap = std::chrono::milliseconds(10);
  self->delayed_send(self, nap, tick_atom::value);
  return {
    [=](tick_atom) {
      if (++self->state.naps == k) {
        self->send(main_actor, self->state.naps);
        self->quit();
      } else {
        self->delayed_send(self, nap, tick_atom::value);
      }
    },
  };
}

void run_sleepers(actor_system& sys, scoped_actor& self, bool full,
                  outcome& out) {
  const int64_t p = full ? 10000 : 1000;
  const int64_t k = full ? 50 : 20;
  for (int64_t i = 0; i < p; ++i)
    sys.spawn(sleeper_actor, actor{self}, k);
  int64_t naps = 0;
  if (collect_sum(self, p, naps, out.error))
    out.checksum = naps;
  out.expected = p * k;
  out.ops = p * k;
}

// ---------------------------------------------------------------------------
// big: W actors ping random peers and answer pings; done after N pongs
// ---------------------------------------------------------------------------

using peer_list = std::shared_ptr<std::vector<actor>>;

struct big_state {
  uint64_t x = 0;
  int64_t pongs = 0;
  peer_list peers; // released when the actor terminates
};

void big_send_ping(stateful_actor<big_state>* self, int64_t i, int64_t w) {
  auto& st = self->state;
  st.x = st.x * 6364136223846793005ULL + 1442695040888963407ULL;
  auto target = static_cast<int64_t>((st.x >> 33) % static_cast<uint64_t>(w));
  if (target == i)
    target = (i + 1) % w;
  self->send((*st.peers)[static_cast<size_t>(target)], ping_atom::value);
}

behavior big_actor(stateful_actor<big_state>* self, int64_t i, int64_t w,
                   int64_t n, peer_list peers, actor main_actor) {
  self->state.x = static_cast<uint64_t>(i) + 1;
  self->state.peers = std::move(peers);
  return {
    // Main sends `go` once every peer handle is in the list.
    [=](go_atom) { big_send_ping(self, i, w); },
    [=](ping_atom) { return pong_atom::value; },
    [=](pong_atom) {
      if (++self->state.pongs == n)
        self->send(main_actor, done_atom::value, self->state.pongs);
      else
        big_send_ping(self, i, w);
    },
    [=](stop_atom) { self->quit(); },
  };
}

void run_big(actor_system& sys, scoped_actor& self, bool full, outcome& out) {
  const int64_t w = full ? 1000 : 200;
  const int64_t n = full ? 5000 : 1000;
  auto peers = std::make_shared<std::vector<actor>>();
  peers->reserve(static_cast<size_t>(w));
  for (int64_t i = 0; i < w; ++i)
    peers->push_back(sys.spawn(big_actor, i, w, n, peers, actor{self}));
  for (auto& a : *peers)
    self->send(a, go_atom::value);
  int64_t pongs = 0;
  for (int64_t i = 0; i < w && out.error.empty(); ++i) {
    self->receive([&](done_atom, int64_t k) { pongs += k; },
                  after(main_wait_limit) >>
                    [&] { out.error = "timeout waiting for done"; });
  }
  if (out.error.empty())
    out.checksum = pongs;
  out.expected = w * n;
  out.ops = 2 * w * n;
  // Shut down after the measurement; stop_atom is handled after any pings
  // still queued, and every actor already got all of its pongs.
  for (auto& a : *peers)
    self->send(a, stop_atom::value);
}

// ---------------------------------------------------------------------------
// parked: P actors blocked in receive; RSS growth per actor
// ---------------------------------------------------------------------------

behavior parked_actor(event_based_actor* self, actor main_actor) {
  self->send(main_actor, ready_atom::value);
  return {
    [=](stop_atom) { self->quit(); },
  };
}

void run_parked(actor_system& sys, scoped_actor& self, bool full,
                outcome& out) {
  const int64_t p = full ? 1000000 : 100000;
  std::vector<actor> parked;
  parked.reserve(static_cast<size_t>(p)); // allocated before the baseline
  const int64_t rss_before = rss_bytes();
  for (int64_t i = 0; i < p; ++i)
    parked.push_back(sys.spawn(parked_actor, actor{self}));
  int64_t ready = 0;
  for (int64_t i = 0; i < p && out.error.empty(); ++i) {
    self->receive([&](ready_atom) { ++ready; },
                  after(main_wait_limit) >>
                    [&] { out.error = "timeout waiting for ready"; });
  }
  const int64_t rss_parked = rss_bytes();
  if (!out.error.empty())
    return;
  for (auto& a : parked)
    self->send(a, stop_atom::value);
  // Wait until they have all terminated: the only actor still counted as
  // running is then the main thread's scoped actor.
  sys.registry().await_running_count_equal(1);
  parked.clear();
  out.checksum = ready;
  out.expected = p;
  out.ops = p;
  out.extra = " bytes_per_proc=" + std::to_string((rss_parked - rss_before) / p);
}

// ---------------------------------------------------------------------------
// bursts: P actors each run R rounds of a 16-deep recursion with a 512-byte
// array per frame; memory per actor right after a round and after a 1 s park.
// An event-based actor has no stack of its own: the recursion runs on the
// stack of the scheduler thread that runs the handler.
// ---------------------------------------------------------------------------

constexpr int64_t burst_rounds = 3;
constexpr int64_t burst_depth = 16;
constexpr auto burst_park = std::chrono::seconds(1);

// Each level fills a local 512-byte array and sums it. The empty asm takes
// the array's address, so the compiler must store every byte and load it
// back, and since the recursive call might then read the array, it can
// neither turn the recursion into a loop nor share one array among levels.
__attribute__((noinline)) int64_t burst(int64_t i, int64_t r, int64_t d) {
  if (d == 0)
    return 0;
  std::array<uint8_t, 512> buf;
  const int64_t base = i + 7 * r + 13 * d;
  for (size_t k = 0; k < buf.size(); ++k)
    buf[k] = static_cast<uint8_t>((base + static_cast<int64_t>(k)) & 0xFF);
  asm volatile("" : : "r"(buf.data()) : "memory");
  int64_t sum = 0;
  for (auto b : buf)
    sum += b;
  return sum + burst(i, r, d - 1);
}

behavior burst_actor(event_based_actor* self, actor main_actor,
                     int64_t index) {
  return {
    // Round r: returning the result sends it to main (the sender of go).
    [=](go_atom, int64_t r) { return burst(index, r, burst_depth); },
    [=](stop_atom) {
      self->send(main_actor, done_atom::value);
      self->quit();
    },
  };
}

void run_bursts(actor_system& sys, scoped_actor& self, bool full,
                outcome& out) {
  const int64_t p = full ? 100000 : 10000;
  std::vector<actor> procs;
  procs.reserve(static_cast<size_t>(p)); // allocated before the baseline
  const int64_t rss_before = rss_bytes();
  for (int64_t i = 0; i < p; ++i)
    procs.push_back(sys.spawn(burst_actor, actor{self}, i));
  int64_t sum = 0;
  int64_t burst_mem = 0;
  int64_t park_mem = 0;
  for (int64_t r = 0; r < burst_rounds; ++r) {
    for (auto& a : procs)
      self->send(a, go_atom::value, r);
    if (!collect_sum(self, p, sum, out.error))
      return;
    burst_mem = rss_bytes();
    std::this_thread::sleep_for(burst_park);
    park_mem = rss_bytes();
  }
  for (auto& a : procs)
    self->send(a, stop_atom::value);
  for (int64_t i = 0; i < p && out.error.empty(); ++i) {
    self->receive([&](done_atom) {},
                  after(main_wait_limit) >>
                    [&] { out.error = "timeout waiting for acks"; });
  }
  if (!out.error.empty())
    return;
  procs.clear();
  out.checksum = sum;
  // Every burst(i, r, 16) is 16 * 65,280: each level's 512 consecutive
  // values mod 256 cover every residue twice.
  out.expected = p * burst_rounds * burst_depth * 2 * (255 * 256 / 2);
  out.ops = p * burst_rounds;
  out.extra = " burst_bytes_per_proc=" +
              std::to_string((burst_mem - rss_before) / p) +
              " parked_bytes_per_proc=" +
              std::to_string((park_mem - rss_before) / p);
}

// ---------------------------------------------------------------------------
// Driver
// ---------------------------------------------------------------------------

using workload_fn = void (*)(actor_system&, scoped_actor&, bool, outcome&);

struct workload_entry {
  const char* name;
  workload_fn fn;
};

const workload_entry workloads[] = {
  {"pingpong", run_pingpong}, {"counting", run_counting},
  {"mailbox", run_mailbox},   {"ring", run_ring},
  {"spawn", run_spawn},       {"spawn_batched", run_spawn_batched},
  {"skynet", run_skynet},     {"big", run_big},
  {"fib", run_fib},           {"primes", run_primes},
  {"sleepers", run_sleepers}, {"timer_churn", run_timer_churn},
  {"parked", run_parked},     {"bursts", run_bursts},
};

int usage_error(const char* msg) {
  std::printf("error %s (usage: caf_bench <workload> <1|2> <quick|full>)\n",
              msg);
  return 2;
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 4)
    return usage_error("wrong number of arguments");
  const std::string name = argv[1];
  const std::string size = argv[3];
  char* end = nullptr;
  long schedulers = std::strtol(argv[2], &end, 10);
  if (end == argv[2] || *end != '\0' || schedulers < 1 || schedulers > 64)
    return usage_error("bad scheduler count");
  if (size != "quick" && size != "full")
    return usage_error("bad size");
  if (name == "yield") {
    // CAF's event-based actors have no way to yield the scheduler
    // mid-handler; the runner treats exit code 3 as "not applicable".
    std::printf("error unsupported\n");
    return 3;
  }
  workload_fn fn = nullptr;
  for (auto& w : workloads)
    if (name == w.name)
      fn = w.fn;
  if (fn == nullptr)
    return usage_error(("unknown workload " + name).c_str());
  const bool full = size == "full";

  outcome out;
  stopwatch sw;
  {
    // argv is not handed to CAF: configure the scheduler directly.
    actor_system_config cfg;
    cfg.set("scheduler.max-threads", static_cast<size_t>(schedulers));
    actor_system sys{cfg};
    {
      // The main thread's actor; workloads receive their results through it.
      scoped_actor self{sys};
      sw = stopwatch{};
      fn(sys, self, full, out);
      sw.stop();
      if (!out.error.empty()) {
        // Actors may still be blocked; do not wait for them on shutdown.
        std::printf("error workload=%s %s\n", name.c_str(), out.error.c_str());
        std::fflush(stdout);
        std::_Exit(1);
      }
    }
    // Leaving this scope waits for all actors, then shuts the system down.
  }
  if (out.checksum != out.expected) {
    std::printf("error workload=%s checksum=%" PRId64 " expected=%" PRId64 "\n",
                name.c_str(), out.checksum, out.expected);
    return 1;
  }
  std::printf("result workload=%s runtime=caf schedulers=%ld size=%s "
              "checksum=%" PRId64 " wall_ns=%" PRId64 " cpu_ns=%" PRId64
              " ops=%" PRId64 "%s\n",
              name.c_str(), schedulers, size.c_str(), out.checksum, sw.wall_ns,
              sw.cpu_ns, out.ops, out.extra.c_str());
  return 0;
}
