// A move-only callable taking Args... and returning nothing, like a
// std::function that also holds move-only targets (Asio completion handlers)
// and keeps targets up to kInlineBytes inside itself: the commit queue holds
// one per submitted batch, and an allocation per request showed in profiles.
#ifndef KVD_DAEMON_INLINE_CALLBACK_H_
#define KVD_DAEMON_INLINE_CALLBACK_H_

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace kvd::daemon {

template <typename... Args>
class InlineCallback {
 public:
  // Fits an Asio coroutine's completion handler (64 bytes with Boost 1.74).
  static constexpr std::size_t kInlineBytes = 96;

  template <typename F,
            typename = std::enable_if_t<!std::is_same_v<std::remove_cvref_t<F>, InlineCallback>>>
  InlineCallback(F&& f) {  // NOLINT: implicit, as std::function's
    using Target = std::remove_cvref_t<F>;
    if constexpr (Fits<Target>()) {
      ::new (static_cast<void*>(storage_)) Target(std::forward<F>(f));
      ops_ = &kInlineOps<Target>;
    } else {
      ::new (static_cast<void*>(storage_)) Target*(new Target(std::forward<F>(f)));
      ops_ = &kHeapOps<Target>;
    }
  }
  InlineCallback(InlineCallback&& other) noexcept : ops_(other.ops_) {
    if (ops_ != nullptr) ops_->relocate(other.storage_, storage_);
    other.ops_ = nullptr;
  }
  InlineCallback& operator=(InlineCallback&& other) noexcept {
    if (this != &other) {
      Reset();
      ops_ = other.ops_;
      if (ops_ != nullptr) ops_->relocate(other.storage_, storage_);
      other.ops_ = nullptr;
    }
    return *this;
  }
  InlineCallback(const InlineCallback&) = delete;
  InlineCallback& operator=(const InlineCallback&) = delete;
  ~InlineCallback() { Reset(); }

  // Calls the target as an rvalue: it is called once (an Asio handler may be).
  void operator()(Args... args) { ops_->invoke(storage_, std::forward<Args>(args)...); }

 private:
  struct Ops {
    void (*invoke)(void* storage, Args... args);
    // Moves the target from one storage to the other and ends the source's.
    void (*relocate)(void* from, void* to);
    void (*destroy)(void* storage);
  };

  template <typename T>
  static constexpr bool Fits() {
    return sizeof(T) <= kInlineBytes && alignof(T) <= alignof(std::max_align_t) &&
           std::is_nothrow_move_constructible_v<T>;
  }

  template <typename T>
  static constexpr Ops kInlineOps = {
      [](void* s, Args... args) { std::move (*static_cast<T*>(s))(std::forward<Args>(args)...); },
      [](void* from, void* to) {
        T* source = static_cast<T*>(from);
        ::new (to) T(std::move(*source));
        source->~T();
      },
      [](void* s) { static_cast<T*>(s)->~T(); },
  };
  template <typename T>
  static constexpr Ops kHeapOps = {
      [](void* s, Args... args) { std::move (**static_cast<T**>(s))(std::forward<Args>(args)...); },
      [](void* from, void* to) { ::new (to) T*(*static_cast<T**>(from)); },
      [](void* s) { delete *static_cast<T**>(s); },
  };

  void Reset() {
    if (ops_ != nullptr) ops_->destroy(storage_);
    ops_ = nullptr;
  }

  alignas(std::max_align_t) unsigned char storage_[kInlineBytes];
  const Ops* ops_ = nullptr;
};

}  // namespace kvd::daemon

#endif  // KVD_DAEMON_INLINE_CALLBACK_H_
