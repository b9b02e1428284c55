#include "store/store.h"

namespace kvd {

void Store::Remember(std::string_view key) {
  if (!frozen_ || before_.find(key) != before_.end()) return;
  Before before;
  if (auto it = map_.find(key); it != map_.end()) {
    before.existed = true;
    before.packed_bytes = it->second.packed_bytes();
  }
  before_.emplace(std::string(key), std::move(before));
}

void Store::Replace(std::string_view key, ValueList values) {
  Remember(key);
  for (std::string_view v : values.view()) {
    byte_count_ += v.size();
    ++value_count_;
  }
  // In ascending order each new key goes at the end: no search needed.
  auto at = map_.end();
  if (!map_.empty() && !(View(std::prev(map_.end())->first) < key)) {
    at = map_.lower_bound(key);
    if (at != map_.end() && View(at->first) == key) {
      Delete(key);  // a repeated key loses its old list (kept aside for a frozen view)
      at = map_.lower_bound(key);
    }
  }
  map_.emplace_hint(at, Key(key.data(), key.size()), std::move(values));
  byte_count_ += key.size();
}

void Store::Append(std::string_view key, std::string_view val) {
  Remember(key);
  auto it = map_.find(key);
  if (it == map_.end()) {
    it = map_.emplace(Key(key.data(), key.size()), ValueList{}).first;
    byte_count_ += key.size();
  }
  byte_count_ += val.size();
  ++value_count_;
  it->second.Append(val);
}

bool Store::Delete(std::string_view key) {
  auto it = map_.find(key);
  if (it == map_.end()) return false;
  Remember(key);
  byte_count_ -= it->first.size();
  for (std::string_view v : it->second.view()) {
    byte_count_ -= v.size();
    --value_count_;
  }
  if (frozen_) {
    Before& before = before_.find(key)->second;
    // The first delete since Freeze() takes the values the view still needs.
    if (before.existed && !before.moved) {
      before.values = std::move(it->second);
      before.moved = true;
    }
  }
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

const ValueList* Store::Find(std::string_view key) const {
  auto it = map_.find(key);
  return it == map_.end() ? nullptr : &it->second;
}

std::vector<std::string> Store::Keys(std::string_view prefix) const {
  std::vector<std::string> keys;
  for (auto it = map_.lower_bound(prefix); it != map_.end() && View(it->first).starts_with(prefix);
       ++it) {
    keys.emplace_back(View(it->first));
  }
  return keys;
}

void Store::Freeze() {
  before_.clear();
  frozen_ = true;
}

void Store::Thaw() {
  frozen_ = false;
  before_.clear();
}

bool Store::VisitFrozen(FrozenCursor* cursor, std::size_t min_bytes, const Visitor& visit) const {
  // The frozen view's keys are the live keys merged with the keys of before_.
  // A key visited in part is visited again, from its offset.
  auto live = map_.begin();
  auto old = before_.begin();
  if (cursor->started) {
    live = cursor->offset > 0 ? map_.lower_bound(cursor->key) : map_.upper_bound(cursor->key);
    old = cursor->offset > 0 ? before_.lower_bound(cursor->key) : before_.upper_bound(cursor->key);
  }
  std::size_t visited = 0;
  // Measured in packed bytes, which a list knows without walking its values;
  // each key counts at least one, so empty ones advance too.
  while (visited < min_bytes && (live != map_.end() || old != before_.end())) {
    const bool take_old =
        live == map_.end() || (old != before_.end() && old->first <= View(live->first));
    const std::string_view key = take_old ? std::string_view(old->first) : View(live->first);
    bool existed = true;
    ValueView view;
    if (take_old) {
      const Before& b = old->second;
      existed = b.existed;
      if (existed) {
        view = (b.moved ? b.values : map_.find(key)->second).view().Prefix(b.packed_bytes);
      }
    } else {
      view = live->second.view();
    }
    cursor->key = key;
    cursor->started = true;
    if (existed) {
      const std::size_t from = cursor->offset;
      const ValueView part = view.Slice(from, min_bytes - visited);
      const std::size_t to = from + part.packed_bytes();
      visit(key, part, from == 0, to == view.packed_bytes());
      visited += key.size() + part.packed_bytes() + 1;
      if (to < view.packed_bytes()) {
        cursor->offset = to;
        return true;
      }
      cursor->offset = 0;
    }
    if (take_old) {
      if (live != map_.end() && View(live->first) == key) ++live;
      ++old;
    } else {
      ++live;
    }
  }
  return live != map_.end() || old != before_.end();
}

}  // namespace kvd
