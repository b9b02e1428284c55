#include "store/store.h"

namespace kvd {
namespace {

constexpr std::size_t kInitialBuckets = 64;
// How far ahead ForEachFetchingAhead fetches: the fetches of 2 * kFetchAhead
// items are on their way at a time.
constexpr int kFetchAhead = 8;

}  // namespace

Store::Store()
    : buckets_(new Table::bucket_type[kInitialBuckets]),
      table_(Table::bucket_traits(buckets_.get(), kInitialBuckets)) {}

Store::~Store() { Clear(); }

void Store::Clear() {
  table_.clear();
  expiring_.clear();
  tree_.clear_and_dispose([](Entry* e) { delete e; });
  value_count_ = 0;
  byte_count_ = 0;
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
  auto* e = new Entry(key);
  // Tried first right after the key loaded last, which takes no search where
  // keys come in ascending order (kvd's own snapshots) or mostly so: files of
  // storage.py keep insertion order, where keys numbered key0, key1, ...
  // mostly follow the one before in sorted order too (key11 goes right after
  // key10; key20 does not go right after key19).
  const auto hint =
      last_loaded_ == nullptr ? tree_.begin() : std::next(tree_.iterator_to(*last_loaded_));
  Entry& at = *tree_.insert_unique(hint, *e);
  last_loaded_ = &at;
  *inserted = &at == e;
  if (*inserted) {
    byte_count_ += key.size();
  } else {
    delete e;
  }
  return at;
}

template <typename It, typename GetKey, typename Fn>
void Store::ForEachFetchingAhead(It first, It last, const GetKey& key_of, const Fn& fn) {
  // The hashes of the keys fetched for and not yet used, by item number
  // modulo the ring's size.
  std::size_t hashes[2 * kFetchAhead];
  const std::hash<std::string_view> hash;
  std::size_t fetched = 0, linked = 0;  // items whose bucket, first entry was fetched
  It far = first;
  auto bucket_of = [&](std::size_t h) -> Table::bucket_type& {
    // The current table: fn may have doubled it meanwhile.
    return buckets_[h & (table_.bucket_count() - 1)];
  };
  auto fetch_bucket = [&] {
    const std::size_t h = hash(key_of(*far));
    ++far;
    hashes[fetched++ % (2 * kFetchAhead)] = h;
    __builtin_prefetch(&bucket_of(h), 1);
  };
  auto fetch_first = [&] {
    const std::size_t h = hashes[linked++ % (2 * kFetchAhead)];
    __builtin_prefetch(&*bucket_of(h).begin().pointed_node(), 1);
  };
  for (int i = 0; i < 2 * kFetchAhead && far != last; ++i) {
    fetch_bucket();
    if (i >= kFetchAhead) fetch_first();
  }
  for (It it = first; it != last; ++it) {
    if (far != last) fetch_bucket();
    if (linked < fetched) fetch_first();
    fn(*it);
  }
}

void Store::BeginLoad() {
  // Into a store that holds keys already, they go in one by one.
  loading_ = tree_.empty() && !frozen_;
  last_loaded_ = nullptr;
}

void Store::EndLoad() {
  if (!loading_) return;
  loading_ = false;
  std::size_t count = table_.bucket_count();
  while (count < tree_.size()) count *= 2;
  Rehash(count);
  // The entries come in the tree's order, their buckets at random.
  ForEachFetchingAhead(
      tree_.begin(), tree_.end(), [](const Entry& e) { return View(e.key); },
      [this](Entry& e) { table_.insert(e); });
}

void Store::DropValues(Entry& e) {
  for (std::string_view v : e.values.view()) {
    byte_count_ -= v.size();
    --value_count_;
  }
  if (frozen_) {
    FrozenImage& image = frozen_images_.find(View(e.key))->second;
    // The first change since Freeze() that drops them hands over the values
    // the view still needs.
    if (image.existed && !image.moved) {
      image.values = std::move(e.values);
      image.moved = true;
    }
  }
}

void Store::KeepFrozenImage(std::string_view key) {
  if (!frozen_ || frozen_images_.find(key) != frozen_images_.end()) return;
  FrozenImage image;
  if (const Entry* e = Lookup(key)) {
    image.existed = true;
    image.packed_bytes = e->values.packed_bytes();
    image.revision = e->revision;
    image.expires_at = e->expires_at;
  }
  frozen_images_.emplace(std::string(key), std::move(image));
}

void Store::Replace(std::string_view key, ValueList values) {
  KeepFrozenImage(key);
  bool inserted;
  Entry& e = loading_ ? FindOrInsertLoading(key, &inserted) : FindOrInsert(key, &inserted);
  // A repeated key loses its old list (kept aside for a frozen view).
  if (!inserted) DropValues(e);
  for (std::string_view v : values.view()) {
    byte_count_ += v.size();
    ++value_count_;
  }
  e.values = std::move(values);
  e.revision = 0;
  SetExpiry(e, 0);
}

void Store::Append(std::string_view key, std::string_view val) {
  KeepFrozenImage(key);
  Entry& e = FindOrInsert(key);
  e.values.Append(val);
  e.revision = ++revision_;
  byte_count_ += val.size();
  ++value_count_;
}

bool Store::Delete(std::string_view key) {
  Entry* e = Lookup(key);
  if (e == nullptr) return false;
  KeepFrozenImage(key);
  DropValues(*e);
  SetExpiry(*e, 0);
  byte_count_ -= e->key.size();
  table_.erase(table_.iterator_to(*e));
  tree_.erase(tree_.iterator_to(*e));
  delete e;
  ++revision_;
  return true;
}

bool Store::Expire(std::string_view key, std::uint64_t at) {
  Entry* e = Lookup(key);
  if (e == nullptr || (at == 0 && e->expires_at == 0)) return false;
  KeepFrozenImage(key);
  SetExpiry(*e, at);
  e->revision = ++revision_;
  return true;
}

void Store::SetExpiry(Entry& e, std::uint64_t at) {
  if (e.expires_at == at) return;
  if (e.expires_at != 0) expiring_.erase({e.expires_at, &e});
  e.expires_at = at;
  if (at != 0) expiring_.emplace(at, &e);
}

std::uint64_t Store::ExpiresAt(std::string_view key) const {
  if (expiring_.empty()) return 0;
  const Entry* e = Lookup(key);
  return e == nullptr ? 0 : e->expires_at;
}

bool Store::Expired(std::string_view key, std::uint64_t now) const {
  const std::uint64_t at = ExpiresAt(key);
  return at != 0 && at <= now;
}

std::vector<std::string> Store::ExpiredKeys(std::uint64_t now, std::size_t max) const {
  std::vector<std::string> keys;
  for (auto it = expiring_.begin(); it != expiring_.end() && it->first <= now && keys.size() < max;
       ++it) {
    keys.emplace_back(View(it->second->key));
  }
  return keys;
}

bool Store::FrozenViewReads(const Entry& e) const {
  if (!frozen_) return false;
  const FrozenImage& image = frozen_images_.find(View(e.key))->second;
  return image.existed && !image.moved;
}

bool Store::Trim(std::string_view key, ListRange range, std::string* removed) {
  Entry* e = Lookup(key);
  if (e == nullptr) return false;
  const ValueView all = e->values.view();
  ValueView kept;
  if (range.start >= 0 && range.stop == -1) {
    // Keeps all from index `start` on: found without counting the rest.
    kept = all.Skip(static_cast<std::size_t>(range.start));
  } else {
    const ListRange::Positions p = range.Resolve(all.count());
    kept = all.Values(p.first, p.count);
  }
  if (kept.packed_bytes() == all.packed_bytes()) return false;
  const std::size_t head = static_cast<std::size_t>(kept.packed_data() - all.packed_data());
  const ValueView before = all.Prefix(head);
  const ValueView after(kept.packed_data() + kept.packed_bytes(),
                        all.packed_bytes() - head - kept.packed_bytes());
  if (removed != nullptr) {
    removed->append(before.packed_data(), before.packed_bytes());
    removed->append(after.packed_data(), after.packed_bytes());
  }
  if (kept.empty()) return Delete(key);
  KeepFrozenImage(key);
  if (FrozenViewReads(*e)) {
    // The view keeps the values as they were; the key goes on with a copy.
    ValueList copy(kept);
    DropValues(*e);
    for (std::string_view v : kept) {
      byte_count_ += v.size();
      ++value_count_;
    }
    e->values = std::move(copy);
  } else {
    for (const ValueView gone : {before, after}) {
      for (std::string_view v : gone) {
        byte_count_ -= v.size();
        --value_count_;
      }
    }
    e->values.Truncate(head + kept.packed_bytes());
    e->values.DropFront(head);
  }
  e->revision = ++revision_;
  return true;
}

bool Store::Apply(const Mutation& m, std::string* removed) {
  switch (m.kind) {
    case Mutation::Kind::kAppend:
      if (!Holds(m.key, m.condition)) return false;
      Append(m.key, m.val);
      if (m.at != 0) SetExpiry(*Lookup(m.key), m.at);
      return true;
    case Mutation::Kind::kDelete:
      return Delete(m.key);
    case Mutation::Kind::kTrim:
      return Trim(m.key, m.range, removed);
    case Mutation::Kind::kExpire:
      return Expire(m.key, m.at);
    case Mutation::Kind::kDeleteExpired:
      return Expired(m.key, m.at) && Delete(m.key);
  }
  return true;
}

void Store::Apply(const WriteBatch& batch, WriteResults* results) {
  const WriteBatch::Mutations mutations = batch.mutations();
  ForEachFetchingAhead(
      mutations.begin(), mutations.end(), [](const Mutation& m) { return m.key; },
      [&](const Mutation& m) {
        removed_.clear();
        const bool done = Apply(m, results != nullptr ? &removed_ : nullptr);
        if (results != nullptr) results->Add(done, ValueView(removed_.data(), removed_.size()));
      });
}

bool Store::Holds(std::string_view key, const Condition& condition) const {
  switch (condition.on) {
    case Condition::On::kNothing:
      return true;
    case Condition::On::kRevision:
      return KeyRevision(key) == condition.value;
    case Condition::On::kLength: {
      const Entry* e = Lookup(key);
      return (e == nullptr ? 0 : e->values.view().count()) == condition.value;
    }
  }
  return false;
}

std::uint64_t Store::KeyRevision(std::string_view key) const {
  const Entry* e = Lookup(key);
  return e == nullptr ? 0 : e->revision;
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

Store::Revisions Store::GetRevisions() const {
  Revisions r{revision_, {}, {}};
  r.keys.reserve(tree_.size());
  for (const Entry& e : tree_) {
    if (e.expires_at != 0) r.expiries.push_back(Expiry{r.keys.size(), e.expires_at});
    r.keys.push_back(e.revision);
  }
  return r;
}

bool Store::SetRevisions(const Revisions& r) {
  if (r.keys.size() != tree_.size()) return false;
  for (std::size_t i = 0; i < r.expiries.size(); ++i) {
    const Expiry& x = r.expiries[i];
    if (x.key >= r.keys.size() || x.at == 0 || (i > 0 && x.key <= r.expiries[i - 1].key)) {
      return false;
    }
  }
  revision_ = r.store;
  auto it = r.keys.begin();
  auto expiry = r.expiries.begin();
  std::uint64_t index = 0;
  for (Entry& e : tree_) {
    e.revision = *it++;
    const bool expires = expiry != r.expiries.end() && expiry->key == index;
    SetExpiry(e, expires ? expiry->at : 0);
    if (expires) ++expiry;
    ++index;
  }
  return true;
}

void Store::ResetRevisions(std::uint64_t last) {
  revision_ = tree_.empty() ? last : last + 1;
  for (Entry& e : tree_) {
    e.revision = revision_;
    SetExpiry(e, 0);
  }
}

void Store::Freeze() {
  frozen_images_.clear();
  frozen_revision_ = revision_;
  frozen_ = true;
}

void Store::Thaw() {
  frozen_ = false;
  frozen_images_.clear();
}

bool Store::VisitFrozen(FrozenCursor* cursor, std::size_t min_bytes, const Visitor& visit) const {
  // The frozen view's keys are the live keys merged with the keys of
  // frozen_images_.
  // A key visited in part is visited again, from its offset.
  auto live = tree_.begin();
  auto old = frozen_images_.begin();
  if (cursor->started) {
    live = cursor->offset > 0 ? tree_.lower_bound(cursor->key) : tree_.upper_bound(cursor->key);
    old = cursor->offset > 0 ? frozen_images_.lower_bound(cursor->key)
                             : frozen_images_.upper_bound(cursor->key);
  }
  std::size_t visited = 0;
  // Measured in packed bytes, which a list knows without walking its values;
  // each key counts at least one, so empty ones advance too.
  while (visited < min_bytes && (live != tree_.end() || old != frozen_images_.end())) {
    const bool take_old =
        live == tree_.end() || (old != frozen_images_.end() && old->first <= View(live->key));
    const std::string_view key = take_old ? std::string_view(old->first) : View(live->key);
    bool existed = true;
    ValueView view;
    std::uint64_t revision;
    std::uint64_t expires_at;
    if (take_old) {
      const FrozenImage& image = old->second;
      existed = image.existed;
      if (existed) {
        view = (image.moved ? image.values : Lookup(key)->values).view().Prefix(image.packed_bytes);
      }
      revision = image.revision;
      expires_at = image.expires_at;
    } else {
      view = live->values.view();
      revision = live->revision;
      expires_at = live->expires_at;
    }
    cursor->key = key;
    cursor->started = true;
    if (existed) {
      const std::size_t from = cursor->offset;
      const ValueView part = view.Slice(from, min_bytes - visited);
      const std::size_t to = from + part.packed_bytes();
      visit(key, part, from == 0, to == view.packed_bytes(), revision, expires_at);
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
  return live != tree_.end() || old != frozen_images_.end();
}

}  // namespace kvd
