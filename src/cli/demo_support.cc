#include "cli/demo_support.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <thread>

namespace weft::cli {
namespace {

sockaddr_in Loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

}  // namespace

bool LoopbackListening(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a = Loopback(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

bool LoopbackBindable(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a = Loopback(port);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

int FreeLoopbackPorts(int first, int end, int n) {
  const int span = end - first - n + 1;
  if (n < 1 || span < 1) return 0;
  const int start =
      static_cast<int>((static_cast<unsigned>(::getpid()) * 7919u) % static_cast<unsigned>(span));
  for (int k = 0; k < span; ++k) {
    const int base = first + (start + k) % span;
    bool free = true;
    for (int i = 0; i < n && free; ++i) {
      free = LoopbackBindable(base + i) && !LoopbackListening(base + i);
    }
    if (free) return base;
  }
  return 0;
}

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout,
             std::chrono::milliseconds every, const std::atomic<int>* stop) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    if (stop != nullptr && stop->load() != 0) return false;
    std::this_thread::sleep_for(every);
  }
  return true;
}

}  // namespace weft::cli
