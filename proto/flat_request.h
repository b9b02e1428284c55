// Internal to proto/: the two ways DecodeRequest reads a line.
#ifndef KVD_PROTO_FLAT_REQUEST_H_
#define KVD_PROTO_FLAT_REQUEST_H_

#include <optional>
#include <string_view>

#include "proto/error.h"
#include "proto/request.h"

namespace kvd::proto::internal {

// The common shapes, read without building a JSON document: a flat object
// holding just the members its op uses, each once, whose values are strings
// without escapes or control characters, in valid UTF-8, or for a get's or
// trim's range and a pop's count and wait, numbers in their plain spelling,
// e.g. {"op":"append","key":"k","val":"v"} or
// {"op":"get","key":"k","start":0,"stop":9}. Any other line (an id, an
// escape, an extra member, an exponent, odd whitespace, an error) returns
// false and leaves *request unspecified: it takes DecodeRequestDocument,
// which decodes the lines this accepts to the same request.
bool DecodeFlatRequest(std::string_view line, Request* request);

// Any line, through a RapidJSON document.
std::optional<Error> DecodeRequestDocument(std::string_view line, Request* request);

}  // namespace kvd::proto::internal

#endif  // KVD_PROTO_FLAT_REQUEST_H_
