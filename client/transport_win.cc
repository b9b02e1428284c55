#include "client/transport.h"

#include <windows.h>

#include <filesystem>

namespace kvd::client {
namespace {

constexpr DWORD kBusyWaitMs = 5000;

boost::system::error_code LastError() {
  return {static_cast<int>(::GetLastError()), boost::system::system_category()};
}

}  // namespace

boost::system::error_code Connect(Stream& stream, const std::string& endpoint) {
  const std::wstring name = std::filesystem::u8path(endpoint).wstring();
  for (;;) {
    // Overlapped, for Asio's stream_handle. SECURITY_IDENTIFICATION: kvd may
    // learn who connects, but not act as this user.
    const HANDLE pipe = ::CreateFileW(
        name.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
        FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, nullptr);
    if (pipe != INVALID_HANDLE_VALUE) {
      boost::system::error_code ec;
      stream.assign(pipe, ec);
      if (ec) ::CloseHandle(pipe);
      return ec;
    }
    // Every instance is taken until kvd creates the next one.
    if (::GetLastError() != ERROR_PIPE_BUSY) return LastError();
    if (!::WaitNamedPipeW(name.c_str(), kBusyWaitMs)) return LastError();
  }
}

}  // namespace kvd::client
