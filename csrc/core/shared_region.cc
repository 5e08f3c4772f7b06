#include "shared_region.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <new>
#include <stdexcept>
#include <system_error>

#include "stream_runner.h"

namespace pinbench {
namespace {

constexpr uint64_t kMagic = 0x70696e62656e6368ULL;  // "pinbench"
constexpr uint32_t kVersion = 2;  // 2: RunControl::warmup_cut
constexpr size_t kAlign = 64;

struct Header {
  uint64_t magic;
  uint32_t version;
  int32_t streams;
  uint64_t bytes;
  RunControl control;
};

size_t aligned(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }
size_t watches_offset() { return aligned(sizeof(Header)); }
size_t slots_offset(int streams) {
  return watches_offset() + aligned(sizeof(StreamWatch) * static_cast<size_t>(streams));
}

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace

size_t SharedRegion::bytes_for(int streams) {
  return slots_offset(streams) + aligned(sizeof(WorkerSlot) * static_cast<size_t>(streams));
}

SharedRegion::SharedRegion(int fd, void* base, size_t bytes) : fd_(fd), base_(base), bytes_(bytes) {
  auto* header = static_cast<Header*>(base);
  streams_ = header->streams;
  control_ = &header->control;
  watches_ = reinterpret_cast<StreamWatch*>(static_cast<char*>(base) + watches_offset());
  slots_ = reinterpret_cast<WorkerSlot*>(static_cast<char*>(base) + slots_offset(streams_));
}

SharedRegion::~SharedRegion() {
  ::munmap(base_, bytes_);
  ::close(fd_);
}

std::unique_ptr<SharedRegion> SharedRegion::create(int streams) {
  if (streams < 1) throw std::invalid_argument("a shared run needs at least one stream");
  int fd = ::memfd_create("pinbench-run", MFD_CLOEXEC);
  if (fd < 0) throw_errno("memfd_create");
  // Keep it clear of 0-2 and of kWorkerRegionFd, so that the dup2 that hands it to a worker never
  // lands on itself (which would leave its close-on-exec flag set).
  const int high = ::fcntl(fd, F_DUPFD_CLOEXEC, 10);
  ::close(fd);
  if (high < 0) throw_errno("fcntl");
  fd = high;
  const size_t bytes = bytes_for(streams);
  if (::ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    const int err = errno;
    ::close(fd);
    throw std::system_error(err, std::generic_category(), "ftruncate");
  }
  void* base = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    const int err = errno;
    ::close(fd);
    throw std::system_error(err, std::generic_category(), "mmap");
  }
  auto* header = new (base) Header{kMagic, kVersion, streams, bytes, {}};
  header->control.init(streams);
  char* at = static_cast<char*>(base);
  for (int i = 0; i < streams; ++i) {
    auto* w = new (at + watches_offset() + sizeof(StreamWatch) * static_cast<size_t>(i)) StreamWatch;
    w->phase.store(static_cast<int>(Phase::kStart), std::memory_order_relaxed);
    new (at + slots_offset(streams) + sizeof(WorkerSlot) * static_cast<size_t>(i)) WorkerSlot;
  }
  return std::unique_ptr<SharedRegion>(new SharedRegion(fd, base, bytes));
}

std::unique_ptr<SharedRegion> SharedRegion::attach(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw_errno("fstat of the shared run region");
  const auto size = static_cast<size_t>(st.st_size);
  if (size < sizeof(Header)) throw std::runtime_error("not a pinbench shared run region (too small)");
  void* base = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) throw_errno("mmap of the shared run region");
  const auto* header = static_cast<const Header*>(base);
  if (header->magic != kMagic || header->version != kVersion || header->bytes != size ||
      header->streams < 1 || bytes_for(header->streams) != size) {
    ::munmap(base, size);
    throw std::runtime_error("not a pinbench shared run region of this version");
  }
  return std::unique_ptr<SharedRegion>(new SharedRegion(fd, base, size));
}

}  // namespace pinbench
