#include "stream_exits.h"

#include <chrono>

#include "stragglers.h"

namespace pinbench {

StreamExits::StreamExits(int streams)
    : running_(streams),
      counted_(static_cast<size_t>(streams), false),
      abandoned_(static_cast<size_t>(streams), false),
      exited_(static_cast<size_t>(streams), false),
      left_behind_(static_cast<size_t>(streams), false) {}

void StreamExits::set_running(int streams) {
  std::lock_guard<std::mutex> lock(mu_);
  running_ = streams;
}

void StreamExits::finished(int i) {
  std::lock_guard<std::mutex> lock(mu_);
  count_done(i);
  cv_.notify_all();
}

void StreamExits::abandon(int i) {
  std::lock_guard<std::mutex> lock(mu_);
  abandoned_[static_cast<size_t>(i)] = true;
  count_done(i);
  cv_.notify_all();
}

bool StreamExits::abandoned(int i) const {
  std::lock_guard<std::mutex> lock(mu_);
  return abandoned_[static_cast<size_t>(i)];
}

bool StreamExits::wait_all_for(double seconds) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::duration<double>(seconds),
                      [this] { return done_ == running_; });
}

bool StreamExits::leave_behind(int i, double timeout_s) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto k = static_cast<size_t>(i);
  if (!abandoned_[k] || exited_[k]) return false;
  left_behind_[k] = true;
  straggler_left(timeout_s);
  return true;
}

bool StreamExits::end_thread(int i) {
  std::lock_guard<std::mutex> lock(mu_);
  exited_[static_cast<size_t>(i)] = true;
  return left_behind_[static_cast<size_t>(i)];
}

void StreamExits::count_done(int i) {
  if (counted_[static_cast<size_t>(i)]) return;
  counted_[static_cast<size_t>(i)] = true;
  ++done_;
}

}  // namespace pinbench
