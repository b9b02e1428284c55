#include "client/transport.h"

namespace kvd::client {

boost::system::error_code Connect(Stream& stream, const std::string& endpoint) {
  boost::system::error_code ec;
  stream.connect(boost::asio::local::stream_protocol::endpoint(endpoint), ec);
  return ec;
}

}  // namespace kvd::client
