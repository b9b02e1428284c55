// What write requests commit (daemon/operations.h): the time of an expiry
// comes from the node that takes the request, and a write to a key whose
// time has come goes after that key's expired delete, in the same batch.
#include "daemon/operations.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/test_dir.h"
#include "tests/unit/describe_batch.h"
#include "tests/unit/engine_helpers.h"

namespace kvd::daemon {
namespace {

using ::testing::ElementsAre;

constexpr std::uint64_t kNow = 1'000'000;

TEST(OperationsTest, AWriteToAnExpiredKeyGoesAfterItsExpiredDelete) {
  TestDir dir;
  auto engine = MustOpen(dir / "storage.data");
  WriteBatch setup;
  setup.Append("gone", "old", {}, kNow);      // expired at kNow
  setup.Append("live", "old", {}, kNow + 1);  // not yet
  ASSERT_TRUE(engine->Write(setup).ok());
  WriteBatch batch;
  RequestMutations made =
      AppendMutations(proto::Request::Append("gone", "new"), *engine, kNow, &batch);
  EXPECT_EQ(made.count, 2u);
  EXPECT_EQ(made.guards, 1u);
  made = AppendMutations(proto::Request::Pop("live"), *engine, kNow, &batch);
  EXPECT_EQ(made.guards, 0u);
  made = AppendMutations(proto::Request::AppendMany({{"gone", "x"}, {"live", "y"}}), *engine, kNow,
                         &batch);
  EXPECT_EQ(made.count, 3u);
  EXPECT_THAT(Describe(batch),
              ElementsAre("delete gone if expired by 1000000", "append gone=new", "trim live 1 -1",
                          "delete gone if expired by 1000000", "append gone=x", "append live=y"));
  WriteResults results;
  ASSERT_TRUE(engine->Write(batch, &results).ok());
  EXPECT_THAT(engine->Get("gone").view().ToStrings(), ElementsAre("new", "x"))
      << "a fresh list, not the old one";
  EXPECT_EQ(engine->TimeToLive("gone"), -1);
}

TEST(OperationsTest, ExpiryTimesCountFromTheNodesClock) {
  TestDir dir;
  auto engine = MustOpen(dir / "storage.data");
  WriteBatch batch;
  AppendMutations(proto::Request::Expire("k", 60), *engine, kNow, &batch);
  AppendMutations(proto::Request::Expire("k", 0), *engine, kNow, &batch);  // deletes now
  proto::Request at = proto::Request::Expire("k", 0);
  at.at_ms = kNow + 5;
  AppendMutations(at, *engine, kNow, &batch);
  at.at_ms = kNow;  // not in the future: deletes now
  AppendMutations(at, *engine, kNow, &batch);
  proto::Request ttl = proto::Request::Append("k", "v");
  ttl.ttl = 2;
  AppendMutations(ttl, *engine, kNow, &batch);
  AppendMutations(proto::Request::Persist("k"), *engine, kNow, &batch);
  EXPECT_THAT(Describe(batch), ElementsAre("expire k 1060000", "delete k", "expire k 1000005",
                                           "delete k", "append k=v expire 1002000", "expire k 0"));
}

}  // namespace
}  // namespace kvd::daemon
