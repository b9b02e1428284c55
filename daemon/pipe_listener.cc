// The named-pipe Listener (Windows). Each client connects to its own pipe
// instance: one instance always waits for the next client (ConnectNamedPipe,
// overlapped), and as soon as a client takes it the next one is created, so
// many clients connect at once and the name is never without an instance.
#include "daemon/listener.h"

#include <windows.h>

#include <sddl.h>  // after <windows.h>, which it needs

#include <filesystem>
#include <vector>

#include <boost/asio/async_result.hpp>
#include <boost/asio/windows/overlapped_ptr.hpp>

#include "daemon/log.h"

namespace kvd::daemon {

namespace asio = boost::asio;

namespace {

constexpr DWORD kBufferSize = 64 * 1024;
constexpr char kPipePrefix[] = R"(\\.\pipe\)";

std::string Win32Message(DWORD error) {
  return boost::system::error_code(static_cast<int>(error), boost::system::system_category())
      .message();
}

// The string form of the SID of `account` (a SID already, or a name).
Status SidString(const std::string& account, std::wstring* sid) {
  const std::wstring name = std::filesystem::u8path(account).wstring();
  PSID parsed = nullptr;
  if (::ConvertStringSidToSidW(name.c_str(), &parsed)) {
    ::LocalFree(parsed);
    *sid = name;
    return Status::OK();
  }
  DWORD sid_size = 0, domain_size = 0;
  SID_NAME_USE use;
  ::LookupAccountNameW(nullptr, name.c_str(), nullptr, &sid_size, nullptr, &domain_size, &use);
  std::vector<char> buffer(sid_size);
  std::vector<wchar_t> domain(domain_size);
  LPWSTR text = nullptr;
  if (sid_size == 0 ||
      !::LookupAccountNameW(nullptr, name.c_str(), buffer.data(), &sid_size, domain.data(),
                            &domain_size, &use) ||
      !::ConvertSidToStringSidW(buffer.data(), &text)) {
    return Status::InvalidArgument("--socket-group: no such group: " + account);
  }
  *sid = text;
  ::LocalFree(text);
  return Status::OK();
}

// "D:P(A;;GA;;;<user's SID>)": full access for this process's user, nobody
// else (not even Administrators or LocalSystem), no inherited entries; and
// read and write access for `group` if given.
Status PipeDescriptor(const std::string& group, void** descriptor) {
  HANDLE token = nullptr;
  if (!::OpenProcessToken(::GetCurrentProcess(), TOKEN_QUERY, &token)) {
    return Status::IOError("cannot read this process's user: " + Win32Message(::GetLastError()));
  }
  DWORD size = 0;
  ::GetTokenInformation(token, TokenUser, nullptr, 0, &size);
  std::vector<char> user(size);
  const bool ok = ::GetTokenInformation(token, TokenUser, user.data(), size, &size);
  ::CloseHandle(token);
  LPWSTR sid = nullptr;
  if (!ok ||
      !::ConvertSidToStringSidW(reinterpret_cast<TOKEN_USER*>(user.data())->User.Sid, &sid)) {
    return Status::IOError("cannot read this process's user: " + Win32Message(::GetLastError()));
  }
  std::wstring sddl = L"D:P(A;;GA;;;" + std::wstring(sid) + L")";
  ::LocalFree(sid);
  if (!group.empty()) {
    std::wstring group_sid;
    if (Status s = SidString(group, &group_sid); !s.ok()) return s;
    sddl += L"(A;;GRGW;;;" + group_sid + L")";
  }
  if (!::ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl.c_str(), SDDL_REVISION_1,
                                                              descriptor, nullptr)) {
    return Status::IOError("cannot make the pipe's security descriptor: " +
                           Win32Message(::GetLastError()));
  }
  return Status::OK();
}

}  // namespace

Listener::Listener(asio::io_context& io, const Options& options)
    : options_(options), io_(io), next_(io) {}

Listener::~Listener() {
  Close();
  if (security_descriptor_ != nullptr) ::LocalFree(security_descriptor_);
}

Status Listener::Listen() {
  if (options_.socket_path.rfind(kPipePrefix, 0) != 0) {
    return Status::InvalidArgument("--socket " + options_.socket_path +
                                   ": on Windows kvd serves a named pipe, \\\\.\\pipe\\NAME");
  }
  // A pipe someone answers on is another kvd's. (FILE_FLAG_FIRST_PIPE_INSTANCE
  // says so too, but Wine does not enforce it.)
  pipe_name_ = std::filesystem::u8path(options_.socket_path).wstring();
  const HANDLE probe =
      ::CreateFileW(pipe_name_.c_str(), GENERIC_READ, 0, nullptr, OPEN_EXISTING, 0, nullptr);
  if (probe != INVALID_HANDLE_VALUE || ::GetLastError() == ERROR_PIPE_BUSY) {
    if (probe != INVALID_HANDLE_VALUE) ::CloseHandle(probe);
    return Status::Busy("another kvd is already serving on " + options_.socket_path);
  }
  if (Status s = PipeDescriptor(options_.access.pipe_group, &security_descriptor_); !s.ok()) {
    return s;
  }
  return CreateInstance(/*first=*/true);
}

Status Listener::Adopt(int) {
  return Status::InvalidArgument("a service manager's socket cannot be served on Windows");
}

Status Listener::CreateInstance(bool first) {
  SECURITY_ATTRIBUTES attributes{sizeof(attributes), security_descriptor_, FALSE};
  // FILE_FLAG_FIRST_PIPE_INSTANCE: if the name exists, another kvd serves it.
  const HANDLE pipe = ::CreateNamedPipeW(
      pipe_name_.c_str(),
      PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED | (first ? FILE_FLAG_FIRST_PIPE_INSTANCE : 0),
      PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS,
      PIPE_UNLIMITED_INSTANCES, kBufferSize, kBufferSize, 0, &attributes);
  if (pipe == INVALID_HANDLE_VALUE) {
    const DWORD error = ::GetLastError();
    if (first && (error == ERROR_ACCESS_DENIED || error == ERROR_PIPE_BUSY)) {
      return Status::Busy("another kvd is already serving on " + options_.socket_path);
    }
    return Status::IOError("cannot create the pipe " + options_.socket_path + ": " +
                           Win32Message(error));
  }
  boost::system::error_code ec;
  next_.assign(pipe, ec);
  if (ec) {
    ::CloseHandle(pipe);
    return Status::IOError("cannot serve the pipe " + options_.socket_path + ": " + ec.message());
  }
  return Status::OK();
}

asio::awaitable<Stream> Listener::Accept(boost::system::error_code& ec) {
  if (!next_.is_open()) {
    // The last instance could not be replaced: try again.
    if (Status s = CreateInstance(/*first=*/false); !s.ok()) {
      log::Warning(s.ToString());
      ec = asio::error::no_descriptors;
      co_return Stream(io_);
    }
  }
  const HANDLE pipe = next_.native_handle();
  auto token = asio::redirect_error(asio::use_awaitable, ec);
  co_await asio::async_initiate<decltype(token), void(boost::system::error_code, std::size_t)>(
      [this, pipe](auto handler) {
        asio::windows::overlapped_ptr connect(io_, std::move(handler));
        const BOOL ok = ::ConnectNamedPipe(pipe, connect.get());
        const DWORD error = ok ? ERROR_SUCCESS : ::GetLastError();
        if (error == ERROR_IO_PENDING) {
          connect.release();  // completes through the io_context
        } else {
          // ERROR_PIPE_CONNECTED: the client came between create and connect.
          connect.complete(
              boost::system::error_code(error == ERROR_PIPE_CONNECTED ? 0 : static_cast<int>(error),
                                        boost::system::system_category()),
              0);
        }
      },
      token);
  Stream client = std::move(next_);
  next_ = Stream(io_);
  if (ec) co_return client;
  // The next instance before this client is served; if that fails, Accept
  // tries again (this client still gets served).
  if (Status s = CreateInstance(/*first=*/false); !s.ok()) log::Warning(s.ToString());
  co_return client;
}

void Listener::Close() {
  boost::system::error_code ignored;
  next_.close(ignored);
}

std::optional<proto::Error> Listener::Refusal(Stream&, std::string*) { return std::nullopt; }

}  // namespace kvd::daemon
