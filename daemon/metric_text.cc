#include "daemon/metric_text.h"

#include <charconv>
#include <cmath>

namespace kvd::daemon {
namespace {

// HELP text escapes backslash and newline; label values also the double quote.
void AppendEscaped(std::string_view s, bool quote, std::string* out) {
  for (const char c : s) {
    if (c == '\\') {
      *out += "\\\\";
    } else if (c == '\n') {
      *out += "\\n";
    } else if (quote && c == '"') {
      *out += "\\\"";
    } else {
      out->push_back(c);
    }
  }
}

}  // namespace

void MetricText::Family(std::string_view name, std::string_view type, std::string_view help) {
  text_ += "# HELP ";
  text_ += name;
  text_.push_back(' ');
  AppendEscaped(help, false, &text_);
  text_ += "\n# TYPE ";
  text_ += name;
  text_.push_back(' ');
  text_ += type;
  text_.push_back('\n');
}

void MetricText::Name(std::string_view name, Labels labels) {
  text_ += name;
  if (labels.size() == 0) return;
  text_.push_back('{');
  bool first = true;
  for (const auto& [label, value] : labels) {
    if (!first) text_.push_back(',');
    first = false;
    text_ += label;
    text_ += "=\"";
    AppendEscaped(value, true, &text_);
    text_.push_back('"');
  }
  text_.push_back('}');
}

void MetricText::Sample(std::string_view name, Labels labels, std::uint64_t value) {
  Name(name, labels);
  text_.push_back(' ');
  text_ += std::to_string(value);
  text_.push_back('\n');
}

void MetricText::Sample(std::string_view name, Labels labels, double value) {
  Name(name, labels);
  text_.push_back(' ');
  text_ += Number(value);
  text_.push_back('\n');
}

std::string MetricText::Number(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (std::isnan(value)) return "NaN";
  // Fixed notation where it is the usual one (0.0001 rather than 1e-04, as
  // Go's and Python's clients write bucket bounds), else the shortest.
  char buffer[400];
  const double magnitude = std::fabs(value);
  const auto result =
      magnitude >= 1e-4 && magnitude < 1e15
          ? std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed)
          : std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

}  // namespace kvd::daemon
