#pragma once
// Errors as values for the control path and start-up: result<T> holds a T or an error whose message gains
// context on its way up ("route 'eth->sol': next hop 'x': unknown peer"). Not for the per-packet path, where
// outcomes are small enums.

#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace ferry::platform {

class error {
 public:
  explicit error(std::string message) : _message(std::move(message)) {}

  const std::string& message() const noexcept { return _message; }

  // Prefixes the message with what was being done: error{"unknown peer"}.context("next hop 'x'")
  // reads "next hop 'x': unknown peer".
  error context(std::string_view what) && {
    _message.insert(0, std::string(what) + ": ");
    return std::move(*this);
  }

 private:
  std::string _message;
};

template <class T>
class [[nodiscard]] result {
 public:
  result(T value) : _state(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  result(error e) : _state(std::in_place_index<1>, std::move(e)) {}      // NOLINT: implicit by design

  bool ok() const noexcept { return _state.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  // Each accessor requires the matching state; asking a failed result for its value is a bug and aborts.
  T& value() & { return std::get<0>(checked(true)); }
  const T& value() const& { return std::get<0>(checked(true)); }
  T&& value() && { return std::get<0>(std::move(checked(true))); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const error& err() const& { return std::get<1>(checked(false)); }
  error&& err() && { return std::get<1>(std::move(checked(false))); }

  // The error with context prepended, for returning from a caller: `return r.context("loading routes")`.
  error context(std::string_view what) && { return std::move(*this).err().context(what); }

 private:
  std::variant<T, error>& checked(bool want_value) {
    if (ok() != want_value) std::abort();
    return _state;
  }
  const std::variant<T, error>& checked(bool want_value) const {
    if (ok() != want_value) std::abort();
    return _state;
  }

  std::variant<T, error> _state;
};

template <>
class [[nodiscard]] result<void> {
 public:
  result() = default;
  result(error e) : _error(std::move(e)), _failed(true) {}  // NOLINT: implicit by design

  bool ok() const noexcept { return !_failed; }
  explicit operator bool() const noexcept { return ok(); }

  const error& err() const& {
    if (!_failed) std::abort();
    return _error;
  }
  error&& err() && {
    if (!_failed) std::abort();
    return std::move(_error);
  }
  error context(std::string_view what) && { return std::move(*this).err().context(what); }

 private:
  error _error{std::string()};
  bool _failed = false;
};

}  // namespace ferry::platform
