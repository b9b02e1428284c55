// libFuzzer target: the protocol decoder and the line framer, on any bytes.
// A decoded request must re-encode to a line that decodes to the same
// request, and what the flat fast path accepts, the general path must decode
// to the same request.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "proto/flat_request.h"
#include "proto/line_framer.h"
#include "proto/request.h"
#include "proto/response.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  kvd::proto::Request request;
  if (!kvd::proto::DecodeRequest(input, &request)) {
    kvd::proto::Request again;
    if (kvd::proto::DecodeRequest(kvd::proto::EncodeRequest(request), &again) ||
        again.op != request.op || again.key != request.key || again.val != request.val ||
        again.prefix != request.prefix || !(again.items == request.items) ||
        again.start != request.start || again.stop != request.stop ||
        again.count != request.count || again.from_tail != request.from_tail ||
        again.wait != request.wait || again.seconds != request.seconds ||
        again.ttl != request.ttl || again.at_ms != request.at_ms) {
      std::abort();
    }
  }
  kvd::proto::Request flat;
  if (kvd::proto::internal::DecodeFlatRequest(input, &flat)) {
    kvd::proto::Request general;
    if (kvd::proto::internal::DecodeRequestDocument(input, &general) || general.op != flat.op ||
        general.key != flat.key || general.val != flat.val || general.prefix != flat.prefix ||
        !general.items.empty() || !flat.items.empty() || general.id != flat.id ||
        general.start != flat.start || general.stop != flat.stop || general.count != flat.count ||
        general.from_tail != flat.from_tail || general.wait != flat.wait ||
        general.seconds != flat.seconds || general.ttl != flat.ttl || general.at_ms != flat.at_ms) {
      std::abort();
    }
  }

  kvd::proto::Response response;
  (void)kvd::proto::DecodeResponse(input, &response);

  // The same bytes as a stream, in two pieces, through a small limit.
  kvd::proto::LineFramer framer(64);
  framer.Feed(input.substr(0, size / 2));
  framer.Feed(input.substr(size / 2));
  std::string_view line;
  while (framer.Next(&line) == kvd::proto::LineFramer::Result::kLine) {
    if (line.size() > 64) std::abort();
  }
  return 0;
}
