#include "sample_recorder.h"

#include <algorithm>
#include <cstddef>

namespace pinbench {
namespace {

constexpr size_t kDefaultReserve = 1 << 14;  // when there was no warmup to estimate the rate from
constexpr size_t kMaxReserve = 1 << 24;      // beyond this the buffers grow on demand

// xorshift64*: a cheap generator for the reservoir's replacement index.
inline uint64_t next_random(uint64_t& s) {
  s ^= s >> 12;
  s ^= s << 25;
  s ^= s >> 27;
  return s * 0x2545F4914F6CDD1DULL;
}

}  // namespace

SampleRecorder::SampleRecorder(const RunnerConfig& config, int stream, int streams,
                               StreamSamples& out)
    : config_(config),
      streams_(streams),
      out_(out),
      random_((config.seed + 1) * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(stream) + 1) {}

void SampleRecorder::reserve(int64_t iterations, int64_t warmup_ns) {
  const bool open = config_.mode == LoopMode::kOpen;
  size_t want = kDefaultReserve;
  if (open) {
    want = (config_.arrivals_ns.size() / static_cast<size_t>(streams_) + 64) *
           static_cast<size_t>(config_.calls_per_unit);
  } else if (iterations > 0 && warmup_ns > 0 && config_.duration_s > 0) {
    const double rate = static_cast<double>(iterations) / (static_cast<double>(warmup_ns) * 1e-9);
    want = static_cast<size_t>(rate * config_.duration_s * 1.25) + 64;
  }
  if (config_.max_iterations > 0 && !open)
    want = config_.duration_s > 0 && iterations > 0
               ? std::min(want, static_cast<size_t>(config_.max_iterations))
               : static_cast<size_t>(config_.max_iterations);
  if (config_.max_samples > 0) want = std::min(want, static_cast<size_t>(config_.max_samples));
  want = std::min(want, kMaxReserve);
  out_.starts.reserve(want);
  out_.ends.reserve(want);
  if (open) out_.scheduled.reserve(want);
}

void SampleRecorder::record(int64_t origin, int64_t t0, int64_t t1) {
  update_totals(origin, t1);
  if (config_.max_samples == 0 || out_.totals.count <= config_.max_samples) {
    out_.starts.push_back(t0);
    out_.ends.push_back(t1);
    if (config_.mode == LoopMode::kOpen) out_.scheduled.push_back(origin);
    return;
  }
  replace_in_reservoir(origin, t0, t1);
}

void SampleRecorder::update_totals(int64_t origin, int64_t t1) {
  LatencyTotals& a = out_.totals;
  const int64_t latency = t1 - origin;
  if (a.count == 0) {
    a.min_ns = a.max_ns = latency;
    a.first_start_ns = origin;
  } else {
    a.min_ns = std::min(a.min_ns, latency);
    a.max_ns = std::max(a.max_ns, latency);
  }
  a.sum_ns += latency;
  a.sum_sq_ns += static_cast<double>(latency) * static_cast<double>(latency);
  a.last_end_ns = std::max(a.last_end_ns, t1);
  ++a.count;
}

// Reservoir sampling (algorithm R) over units: each unit so far is stored with equal
// probability, its calls together; the slot is drawn at the unit's first call.
void SampleRecorder::replace_in_reservoir(int64_t origin, int64_t t0, int64_t t1) {
  const int64_t count = out_.totals.count;
  const int64_t unit = config_.calls_per_unit;
  const int64_t position = (count - 1) % unit;
  if (position == 0) {
    const uint64_t units = static_cast<uint64_t>((count - 1) / unit + 1);
    const uint64_t j = next_random(random_) % units;
    slot_ = j < static_cast<uint64_t>(config_.max_samples / unit) ? static_cast<int64_t>(j) * unit
                                                                   : -1;
  }
  if (slot_ < 0) return;
  const auto k = static_cast<size_t>(slot_ + position);
  out_.starts[k] = t0;
  out_.ends[k] = t1;
  if (config_.mode == LoopMode::kOpen) out_.scheduled[k] = origin;
}

}  // namespace pinbench
