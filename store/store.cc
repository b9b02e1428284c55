#include "store/store.h"

namespace kvd {
namespace {

constexpr std::size_t kInitialBuckets = 64;

}  // namespace

Store::Store()
    : buckets_(new Table::bucket_type[kInitialBuckets]),
      table_(Table::bucket_traits(buckets_.get(), kInitialBuckets)) {}

Store::~Store() {
  table_.clear();
  tree_.clear_and_dispose([](Entry* e) { delete e; });
}

const Store::Entry* Store::Lookup(std::string_view key) const {
  auto it = table_.find(key);
  return it == table_.end() ? nullptr : &*it;
}

Store::Entry& Store::FindOrInsert(std::string_view key, bool* inserted) {
  Table::insert_commit_data commit;
  const auto [found, absent] = table_.insert_check(key, commit);
  if (inserted != nullptr) *inserted = absent;
  if (!absent) return *found;
  auto* e = new Entry(key);
  table_.insert_commit(*e, commit);
  tree_.insert_unique(*e);
  byte_count_ += key.size();
  if (table_.size() > table_.bucket_count()) Rehash(table_.bucket_count() * 2);
  return *e;
}

void Store::Rehash(std::size_t buckets) {
  std::unique_ptr<Table::bucket_type[]> array(new Table::bucket_type[buckets]);
  table_.rehash(Table::bucket_traits(array.get(), buckets));
  buckets_ = std::move(array);
}

Store::Entry& Store::FindOrInsertLoading(std::string_view key, bool* inserted) {
  *inserted = true;
  auto* e = new Entry(key);
  // In ascending order each key goes at the end, without a search.
  if (greatest_loaded_ == nullptr || View(greatest_loaded_->key) < key) {
    tree_.push_back(*e);
    greatest_loaded_ = e;
  } else if (auto [at, absent] = tree_.insert_unique(*e); !absent) {
    delete e;
    *inserted = false;
    return *at;
  }
  byte_count_ += key.size();
  return *e;
}

void Store::BeginLoad() {
  // Into a store that holds keys already, they go in one by one.
  loading_ = tree_.empty() && !frozen_;
  greatest_loaded_ = nullptr;
}

void Store::EndLoad() {
  if (!loading_) return;
  loading_ = false;
  std::size_t count = table_.bucket_count();
  while (count < tree_.size()) count *= 2;
  Rehash(count);
  // The entries come in the tree's order, their buckets at random. Each
  // insert reads its bucket and the entry the bucket links first (a key
  // inserted earlier, anywhere): both are fetched ahead, the bucket two
  // steps before the entry it leads to.
  constexpr int kAhead = 8;
  const std::hash<std::string_view> hash;
  auto bucket_of = [&](const Entry& e) -> Table::bucket_type& {
    return buckets_[hash(View(e.key)) & (count - 1)];
  };
  auto fetch_bucket = [&](const Entry& e) { __builtin_prefetch(&bucket_of(e), 1); };
  auto fetch_first = [&](const Entry& e) {
    __builtin_prefetch(&*bucket_of(e).begin().pointed_node(), 1);
  };
  auto far = tree_.begin(), near = tree_.begin();
  for (int i = 0; i < 2 * kAhead && far != tree_.end(); ++i) {
    fetch_bucket(*far++);
    if (i >= kAhead) fetch_first(*near++);
  }
  for (Entry& e : tree_) {
    if (far != tree_.end()) fetch_bucket(*far++);
    if (near != tree_.end()) fetch_first(*near++);
    table_.insert(e);
  }
}

void Store::DropValues(Entry& e) {
  for (std::string_view v : e.values.view()) {
    byte_count_ -= v.size();
    --value_count_;
  }
  if (frozen_) {
    Before& before = before_.find(View(e.key))->second;
    // The first change since Freeze() that drops them hands over the values
    // the view still needs.
    if (before.existed && !before.moved) {
      before.values = std::move(e.values);
      before.moved = true;
    }
  }
}

void Store::Remember(std::string_view key) {
  if (!frozen_ || before_.find(key) != before_.end()) return;
  Before before;
  if (const Entry* e = Lookup(key)) {
    before.existed = true;
    before.packed_bytes = e->values.packed_bytes();
  }
  before_.emplace(std::string(key), std::move(before));
}

void Store::Replace(std::string_view key, ValueList values) {
  Remember(key);
  bool inserted;
  Entry& e = loading_ ? FindOrInsertLoading(key, &inserted) : FindOrInsert(key, &inserted);
  // A repeated key loses its old list (kept aside for a frozen view).
  if (!inserted) DropValues(e);
  for (std::string_view v : values.view()) {
    byte_count_ += v.size();
    ++value_count_;
  }
  e.values = std::move(values);
}

void Store::Append(std::string_view key, std::string_view val) {
  Remember(key);
  FindOrInsert(key).values.Append(val);
  byte_count_ += val.size();
  ++value_count_;
}

bool Store::Delete(std::string_view key) {
  Entry* e = Lookup(key);
  if (e == nullptr) return false;
  Remember(key);
  DropValues(*e);
  byte_count_ -= e->key.size();
  table_.erase(table_.iterator_to(*e));
  tree_.erase(tree_.iterator_to(*e));
  delete e;
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
  const Entry* e = Lookup(key);
  return e == nullptr ? nullptr : &e->values;
}

std::vector<std::string> Store::Keys(std::string_view prefix) const {
  std::vector<std::string> keys;
  for (auto it = tree_.lower_bound(prefix); it != tree_.end() && View(it->key).starts_with(prefix);
       ++it) {
    keys.emplace_back(View(it->key));
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
  auto live = tree_.begin();
  auto old = before_.begin();
  if (cursor->started) {
    live = cursor->offset > 0 ? tree_.lower_bound(cursor->key) : tree_.upper_bound(cursor->key);
    old = cursor->offset > 0 ? before_.lower_bound(cursor->key) : before_.upper_bound(cursor->key);
  }
  std::size_t visited = 0;
  // Measured in packed bytes, which a list knows without walking its values;
  // each key counts at least one, so empty ones advance too.
  while (visited < min_bytes && (live != tree_.end() || old != before_.end())) {
    const bool take_old =
        live == tree_.end() || (old != before_.end() && old->first <= View(live->key));
    const std::string_view key = take_old ? std::string_view(old->first) : View(live->key);
    bool existed = true;
    ValueView view;
    if (take_old) {
      const Before& b = old->second;
      existed = b.existed;
      if (existed) {
        view = (b.moved ? b.values : Lookup(key)->values).view().Prefix(b.packed_bytes);
      }
    } else {
      view = live->values.view();
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
      if (live != tree_.end() && View(live->key) == key) ++live;
      ++old;
    } else {
      ++live;
    }
  }
  return live != tree_.end() || old != before_.end();
}

}  // namespace kvd
