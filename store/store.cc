#include "store/store.h"

namespace kvd {

void Store::Touch(std::string_view key) {
  if (map_.find(key) == map_.end()) {
    map_.emplace(std::string(key), Values{});
    byte_count_ += key.size();
  }
}

void Store::Append(std::string_view key, std::string val) {
  auto it = map_.find(key);
  if (it == map_.end()) {
    it = map_.emplace(std::string(key), Values{}).first;
    byte_count_ += key.size();
  }
  byte_count_ += val.size();
  ++value_count_;
  it->second.push_back(std::move(val));
}

bool Store::Delete(std::string_view key) {
  auto it = map_.find(key);
  if (it == map_.end()) return false;
  byte_count_ -= it->first.size();
  for (const auto& v : it->second) byte_count_ -= v.size();
  value_count_ -= it->second.size();
  map_.erase(it);
  return true;
}

bool Store::Apply(const Mutation& m) {
  switch (m.kind) {
    case Mutation::Kind::kAppend:
      Append(m.key, m.val);
      return true;
    case Mutation::Kind::kDelete:
      return Delete(m.key);
  }
  return true;
}

const Store::Values* Store::Find(std::string_view key) const {
  auto it = map_.find(key);
  return it == map_.end() ? nullptr : &it->second;
}

std::vector<std::string> Store::Keys(std::string_view prefix) const {
  std::vector<std::string> keys;
  for (auto it = map_.lower_bound(prefix); it != map_.end() && it->first.starts_with(prefix);
       ++it) {
    keys.push_back(it->first);
  }
  return keys;
}

void Store::ForEach(const std::function<void(const std::string&, const Values&)>& fn) const {
  for (const auto& [key, values] : map_) fn(key, values);
}

}  // namespace kvd
