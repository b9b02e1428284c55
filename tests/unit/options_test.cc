#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "daemon/cluster_options.h"

namespace kvd::daemon {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ParsePeersTest, ReadsEachIdAndAddressInOrder) {
  std::vector<RaftPeer> peers;
  std::string error;
  ASSERT_TRUE(ParsePeers("3=10.0.0.3:7003,1=127.0.0.1:1,20=192.168.1.20:65535", &peers, &error))
      << error;
  EXPECT_THAT(peers, ElementsAre(RaftPeer{3, "10.0.0.3:7003"}, RaftPeer{1, "127.0.0.1:1"},
                                 RaftPeer{20, "192.168.1.20:65535"}));
}

TEST(ParsePeersTest, OnePeerIsACluster) {
  std::vector<RaftPeer> peers;
  std::string error;
  ASSERT_TRUE(ParsePeers("1=127.0.0.1:7001", &peers, &error)) << error;
  EXPECT_THAT(peers, ElementsAre(RaftPeer{1, "127.0.0.1:7001"}));
}

TEST(ParsePeersTest, ReplacesWhatThePeersHeldBefore) {
  std::vector<RaftPeer> peers = {{9, "127.0.0.9:9"}};
  std::string error;
  ASSERT_TRUE(ParsePeers("1=127.0.0.1:7001", &peers, &error)) << error;
  EXPECT_THAT(peers, ElementsAre(RaftPeer{1, "127.0.0.1:7001"}));
}

TEST(ParsePeersTest, IdsAreNumbersAboveZero) {
  for (const char* spec :
       {"0=127.0.0.1:7001", "=127.0.0.1:7001", "x=127.0.0.1:7001", "-1=127.0.0.1:7001",
        "+1=127.0.0.1:7001", " 1=127.0.0.1:7001", "1.5=127.0.0.1:7001", "127.0.0.1:7001", "1",
        "99999999999999999999=127.0.0.1:7001"}) {
    std::vector<RaftPeer> peers;
    std::string error;
    EXPECT_FALSE(ParsePeers(spec, &peers, &error)) << spec;
    EXPECT_THAT(error, HasSubstr("ID=HOST:PORT")) << spec;
  }
}

TEST(ParsePeersTest, AddressesAreIpv4HostAndPort) {
  for (const char* spec :
       {"1=", "1=127.0.0.1", "1=127.0.0.1:", "1=:7001", "1=localhost:7001", "1=[::1]:7001",
        "1=::1:7001", "1=127.0.0.256:7001", "1=127.0.0:7001", "1=127.0.0.1:x", "1=127.0.0.1:-1",
        "1=127.0.0.1:70 01", "1=127.0.0.1:7001 ", "1=127.0.0.1:123456"}) {
    std::vector<RaftPeer> peers;
    std::string error;
    EXPECT_FALSE(ParsePeers(spec, &peers, &error)) << spec;
    EXPECT_THAT(error, HasSubstr("IPv4 HOST:PORT")) << spec;
  }
}

TEST(ParsePeersTest, PortsRunFromOneTo65535) {
  std::vector<RaftPeer> peers;
  std::string error;
  EXPECT_TRUE(ParsePeers("1=127.0.0.1:1,2=127.0.0.1:65535", &peers, &error)) << error;
  EXPECT_FALSE(ParsePeers("1=127.0.0.1:0", &peers, &error));
  EXPECT_FALSE(ParsePeers("1=127.0.0.1:65536", &peers, &error));
  EXPECT_FALSE(ParsePeers("1=127.0.0.1:99999", &peers, &error));
}

TEST(ParsePeersTest, EmptyItemsAreRefused) {
  for (const char* spec :
       {"", ",", "1=127.0.0.1:7001,", ",1=127.0.0.1:7001", "1=127.0.0.1:7001,,2=127.0.0.1:7002"}) {
    std::vector<RaftPeer> peers;
    std::string error;
    EXPECT_FALSE(ParsePeers(spec, &peers, &error)) << '"' << spec << '"';
    EXPECT_FALSE(error.empty()) << '"' << spec << '"';
  }
}

TEST(ParsePeersTest, AnIdIsListedOnce) {
  for (const char* spec : {"1=127.0.0.1:7001,1=127.0.0.2:7002",
                           "1=127.0.0.1:7001,2=127.0.0.2:7002,01=127.0.0.3:7003"}) {
    std::vector<RaftPeer> peers;
    std::string error;
    EXPECT_FALSE(ParsePeers(spec, &peers, &error)) << spec;
    EXPECT_THAT(error, HasSubstr("listed twice")) << spec;
  }
}

TEST(ParsePeersTest, AnAddressIsListedOnce) {
  std::vector<RaftPeer> peers;
  std::string error;
  EXPECT_FALSE(ParsePeers("1=127.0.0.1:7001,2=127.0.0.1:7001", &peers, &error));
  EXPECT_THAT(error, HasSubstr("listed twice"));
  EXPECT_TRUE(ParsePeers("1=127.0.0.1:7001,2=127.0.0.1:7002,3=127.0.0.2:7001", &peers, &error))
      << "the same host, or the same port, is no repeat: " << error;
}

TEST(ParsePeersTest, AnAddressIsListedOnceHoweverItsPortIsWritten) {
  std::vector<RaftPeer> peers;
  std::string error;
  EXPECT_FALSE(ParsePeers("1=127.0.0.1:7001,2=127.0.0.1:07001", &peers, &error))
      << "two nodes at one address";
}

}  // namespace
}  // namespace kvd::daemon
