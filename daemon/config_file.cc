#include "daemon/config_file.h"

#include <map>
#include <sstream>

namespace kvd::daemon {
namespace {

std::string Trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

std::string Unquote(std::string s) {
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) {
    s = s.substr(1, s.size() - 2);
  }
  return s;
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

// Each key the file sets, as CLI11 names it ("section.key" in a section
// other than [default]), with the line of its first setting.
std::map<std::string, std::size_t> KeysAndLines(const std::string& file_text) {
  std::map<std::string, std::size_t> keys;
  std::istringstream in(file_text);
  std::string section;
  std::size_t line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    line = Trim(line);
    if (line.size() < 3 || line.front() == '#' || line.front() == ';') continue;  // as CLI11
    if (line.front() == '[' && line.back() == ']') {
      section = line.substr(1, line.size() - 2);
      if (section.size() >= 2 && section.front() == '[' && section.back() == ']') {
        section = section.substr(1, section.size() - 2);
      }
      if (section == "default" || section == "DEFAULT") section.clear();
      continue;
    }
    const auto equals = line.find('=');
    std::string key =
        equals == std::string::npos ? line.substr(0, line.find('#')) : line.substr(0, equals);
    key = Unquote(Trim(key));
    if (!section.empty()) key = section + "." + key;
    keys.emplace(key, line_no);  // a repeated key: its first line
  }
  return keys;
}

// Where `message` first names `key` on its own (not inside a longer name),
// possibly as "--key"; npos if nowhere.
std::size_t FirstMention(const std::string& message, const std::string& key) {
  if (key.empty()) return std::string::npos;
  for (auto at = message.find(key); at != std::string::npos; at = message.find(key, at + 1)) {
    std::size_t start = at;
    if (start >= 2 && message.compare(start - 2, 2, "--") == 0) start -= 2;
    const std::size_t end = at + key.size();
    const bool alone_before = start == 0 || !IsNameChar(message[start - 1]);
    // A name may end a sentence: "cannot parse fsync." names fsync.
    const bool alone_after =
        end == message.size() || !IsNameChar(message[end]) ||
        (message[end] == '.' && (end + 1 == message.size() || !IsNameChar(message[end + 1])));
    if (alone_before && alone_after) return start;
  }
  return std::string::npos;
}

}  // namespace

std::optional<std::size_t> ConfigErrorLine(const std::string& file_text, const std::string& message,
                                           const std::set<std::string>& given_as_flags) {
  std::optional<std::size_t> line;
  std::size_t earliest = std::string::npos, longest = 0;
  for (const auto& [key, key_line] : KeysAndLines(file_text)) {
    if (given_as_flags.count(key) != 0) continue;
    const std::size_t at = FirstMention(message, key);
    if (at == std::string::npos) continue;
    // The earliest mention; at the same place, the longer name ("max-line"
    // over "max").
    if (at < earliest || (at == earliest && key.size() > longest)) {
      earliest = at;
      longest = key.size();
      line = key_line;
    }
  }
  return line;
}

}  // namespace kvd::daemon
