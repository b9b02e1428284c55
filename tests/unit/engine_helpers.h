// Helpers shared by the engine tests (engine_test.cc, engine_process_test.cc).
#ifndef KVD_TESTS_UNIT_ENGINE_HELPERS_H_
#define KVD_TESTS_UNIT_ENGINE_HELPERS_H_

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "store/engine.h"

namespace kvd {

inline std::unique_ptr<Engine> MustOpen(const std::filesystem::path& path,
                                        EngineOptions options = {}) {
  std::unique_ptr<Engine> engine;
  Status s = Engine::Open(path, options, &engine);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return engine;
}

inline Status Append(Engine& engine, const std::string& key, const std::string& val) {
  WriteBatch batch;
  batch.Append(key, val);
  return engine.Write(batch);
}

}  // namespace kvd

#endif  // KVD_TESTS_UNIT_ENGINE_HELPERS_H_
