// ICE-lite: integrity, nomination, path switch, restart and consent freshness, with time by hand.
#include "sfu/IceLite.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "common/ByteReader.hpp"
#include "proto/stun/Stun.hpp"

namespace meeting::sfu {
namespace {
namespace stun = proto::stun;
using namespace std::chrono_literals;

struct Check {
  std::string username;
  std::string password;
  bool useCandidate = false;
  bool withIntegrity = true;
  uint16_t extraAttribute = 0;  // e.g. an unknown comprehension-required one
};

std::vector<uint8_t> makeRequest(const Check& check) {
  std::vector<uint8_t> buffer(512);
  ByteWriter writer(buffer);
  stun::TransactionId id{};
  stun::randomTransactionId(id);
  stun::StunBuilder builder(writer, stun::Method::Binding, stun::MessageClass::Request, id);
  if (!check.username.empty()) builder.addUsername(check.username);
  builder.addPriority(1853824767);
  builder.addIceControlling(0x1122334455667788ULL);
  if (check.useCandidate) builder.addUseCandidate();
  if (check.extraAttribute) builder.addU32(check.extraAttribute, 7);
  if (check.withIntegrity) builder.addMessageIntegrity(stun::shortTermKey(check.password));
  builder.addFingerprint();
  EXPECT_TRUE(builder.ok());
  buffer.resize(builder.size());
  return buffer;
}

IcePath udpPath(uint8_t lastOctet, uint16_t port) {
  return IcePath{IceProtocol::Udp, stun::Address::v4({198, 51, 100, lastOctet}, port), nullptr};
}

class IceLiteTest : public ::testing::Test {
 protected:
  IceLiteTest()
      : ice_(IceCredentials{"serverufrag", "serverpassword0123456789"}, IceLiteConfig{},
             IceLiteCallbacks{[this](const IcePath& p) { selected_.push_back(p); },
                              [this](IceState s) { states_.push_back(s); }}) {
    ice_.setRemoteUfrag("browser");
  }

  IceLite::CheckResult check(const Check& c, const IcePath& path, TimePoint now) {
    request_ = makeRequest(c);
    auto message = stun::StunMessage::parse(request_);
    EXPECT_TRUE(message.has_value());
    auto result = ice_.handleRequest(*message, path, now, response_);
    lastResponse_ = std::vector<uint8_t>(response_.begin(), response_.begin() + result.responseSize);
    return result;
  }

  Check valid(bool nominate = false) { return Check{"serverufrag:browser", "serverpassword0123456789", nominate}; }

  IceLite ice_;
  std::vector<IcePath> selected_;
  std::vector<IceState> states_;
  std::vector<uint8_t> request_;
  std::array<uint8_t, 512> response_{};
  std::vector<uint8_t> lastResponse_;
  TimePoint t0_{std::chrono::seconds(1000)};
};

TEST_F(IceLiteTest, AnswersValidCheckWithSignedXorMappedAddress) {
  auto path = udpPath(7, 50000);
  auto result = check(valid(), path, t0_);
  ASSERT_EQ(result.outcome, IceLite::Outcome::Success);
  auto response = stun::StunMessage::parse(lastResponse_);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->messageClass(), stun::MessageClass::SuccessResponse);
  EXPECT_TRUE(std::equal(response->transactionId().begin(), response->transactionId().end(), request_.begin() + 8));
  EXPECT_TRUE(stun::verifyMessageIntegrity(*response, stun::shortTermKey("serverpassword0123456789")));
  EXPECT_TRUE(stun::verifyFingerprint(*response));
  ASSERT_TRUE(response->xorMappedAddress());
  EXPECT_EQ(*response->xorMappedAddress(), path.remote);
  // Valid but not nominated: usable for DTLS, not yet "connected".
  EXPECT_TRUE(ice_.isValidPath(path));
  EXPECT_EQ(ice_.state(), IceState::New);
  EXPECT_EQ(ice_.sendPath()->remote, path.remote);
}

TEST_F(IceLiteTest, NominationSelectsThePathAndConnects) {
  auto path = udpPath(7, 50000);
  ASSERT_EQ(check(valid(true), path, t0_).outcome, IceLite::Outcome::Success);
  ASSERT_EQ(selected_.size(), 1u);
  EXPECT_EQ(selected_[0], path);
  EXPECT_EQ(ice_.state(), IceState::Connected);
  EXPECT_EQ(states_, std::vector<IceState>{IceState::Connected});
  // Repeated nomination of the same path is not a change.
  check(valid(true), path, t0_ + 1s);
  EXPECT_EQ(selected_.size(), 1u);
}

TEST_F(IceLiteTest, WrongPasswordOrUfragGets401WithoutIntegrity) {
  auto path = udpPath(7, 50000);
  for (auto bad : {Check{"serverufrag:browser", "wrong-password-000000000"}, Check{"otherufrag:browser", "serverpassword0123456789"},
                   Check{"serverufrag:notbrowser", "serverpassword0123456789"}, Check{"serverufrag", "serverpassword0123456789"}}) {
    auto result = check(bad, path, t0_);
    ASSERT_EQ(result.outcome, IceLite::Outcome::Error) << bad.username;
    auto response = stun::StunMessage::parse(lastResponse_);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->errorCode()->code, 401);
    EXPECT_EQ(response->messageIntegrityOffset(), 0u);  // RFC 8489 §9.1.3: no integrity on 401
  }
  EXPECT_FALSE(ice_.isValidPath(path));
  EXPECT_EQ(ice_.sendPath(), nullptr);
}

TEST_F(IceLiteTest, MissingUsernameOrIntegrityGets400) {
  auto noIntegrity = valid();
  noIntegrity.withIntegrity = false;
  EXPECT_EQ(check(noIntegrity, udpPath(1, 1), t0_).outcome, IceLite::Outcome::Error);
  EXPECT_EQ(stun::StunMessage::parse(lastResponse_)->errorCode()->code, 400);
  Check noUsername{"", "serverpassword0123456789"};
  EXPECT_EQ(check(noUsername, udpPath(1, 1), t0_).outcome, IceLite::Outcome::Error);
  EXPECT_EQ(stun::StunMessage::parse(lastResponse_)->errorCode()->code, 400);
}

TEST_F(IceLiteTest, UnknownRequiredAttributeGets420) {
  auto c = valid();
  c.extraAttribute = 0x7F01;  // comprehension-required range, unknown to the codec
  auto result = check(c, udpPath(1, 1), t0_);
  ASSERT_EQ(result.outcome, IceLite::Outcome::Error);
  auto response = stun::StunMessage::parse(lastResponse_);
  EXPECT_EQ(response->errorCode()->code, 420);
  std::array<uint16_t, 4> unknown{};
  ASSERT_EQ(response->unknownAttributes(unknown).value_or(0), 1u);
  EXPECT_EQ(unknown[0], 0x7F01);
}

TEST_F(IceLiteTest, BadFingerprintIsDroppedSilently) {
  request_ = makeRequest(valid());
  request_.back() ^= 0xFF;
  auto message = stun::StunMessage::parse(request_);
  ASSERT_TRUE(message);
  auto result = ice_.handleRequest(*message, udpPath(1, 1), t0_, response_);
  EXPECT_EQ(result.outcome, IceLite::Outcome::Drop);
  EXPECT_EQ(result.responseSize, 0u);
}

TEST_F(IceLiteTest, BrowserSwitchesPathByNominatingAnother) {
  auto wifi = udpPath(7, 50000);
  auto cellular = udpPath(9, 40000);
  check(valid(true), wifi, t0_);
  check(valid(false), cellular, t0_ + 1s);
  EXPECT_EQ(ice_.selectedPath()->remote, wifi.remote);  // a check alone does not switch
  check(valid(true), cellular, t0_ + 2s);
  ASSERT_EQ(selected_.size(), 2u);
  EXPECT_EQ(ice_.selectedPath()->remote, cellular.remote);
  EXPECT_EQ(ice_.sendPath()->remote, cellular.remote);
}

TEST_F(IceLiteTest, ConsentFreshnessDisconnectsThenFails) {
  auto path = udpPath(7, 50000);
  check(valid(true), path, t0_);
  ice_.tick(t0_ + 5s);
  EXPECT_EQ(ice_.state(), IceState::Connected);
  ice_.tick(t0_ + 11s);
  EXPECT_EQ(ice_.state(), IceState::Disconnected);
  check(valid(false), path, t0_ + 12s);  // a consent check on the selected path revives it
  EXPECT_EQ(ice_.state(), IceState::Connected);
  ice_.tick(t0_ + 12s + 31s);
  EXPECT_EQ(ice_.state(), IceState::Failed);
  check(valid(true), path, t0_ + 50s);  // failure is final (RFC 7675 §5.1)
  EXPECT_EQ(ice_.state(), IceState::Failed);
  EXPECT_EQ(states_, (std::vector<IceState>{IceState::Connected, IceState::Disconnected, IceState::Connected, IceState::Failed}));
}

TEST_F(IceLiteTest, RestartAcceptsOldCredentialsUntilNewOnesAreUsed) {
  auto path = udpPath(7, 50000);
  check(valid(true), path, t0_);
  ice_.restart(IceCredentials{"newufrag", "newpassword0123456789abc"}, "browser2");
  // Old credentials keep the current path alive meanwhile.
  EXPECT_EQ(check(valid(), path, t0_ + 1s).outcome, IceLite::Outcome::Success);
  Check fresh{"newufrag:browser2", "newpassword0123456789abc", true};
  auto newPath = udpPath(9, 40000);
  EXPECT_EQ(check(fresh, newPath, t0_ + 2s).outcome, IceLite::Outcome::Success);
  EXPECT_EQ(ice_.selectedPath()->remote, newPath.remote);
  // After the first check with the new credentials the old ones stop working.
  EXPECT_EQ(check(valid(), path, t0_ + 3s).outcome, IceLite::Outcome::Error);
}

TEST_F(IceLiteTest, ClosedTcpConnectionIsForgotten) {
  int connection = 0;
  IcePath tcp{IceProtocol::Tcp, stun::Address::v4({198, 51, 100, 7}, 50000), &connection};
  check(valid(true), tcp, t0_);
  EXPECT_EQ(ice_.state(), IceState::Connected);
  ice_.removeConnection(&connection);
  EXPECT_EQ(ice_.selectedPath(), nullptr);
  EXPECT_EQ(ice_.sendPath(), nullptr);
  EXPECT_EQ(ice_.state(), IceState::Disconnected);
}

TEST_F(IceLiteTest, RemembersABoundedNumberOfPaths) {
  for (uint8_t i = 0; i < 3 * IceLite::MaxPaths; ++i) check(valid(i == 0), udpPath(i, 1000), t0_ + std::chrono::seconds(i));
  EXPECT_TRUE(ice_.isValidPath(udpPath(0, 1000)));  // the selected path is never evicted
  EXPECT_FALSE(ice_.isValidPath(udpPath(1, 1000)));  // the oldest unselected ones are
  EXPECT_TRUE(ice_.isValidPath(udpPath(3 * IceLite::MaxPaths - 1, 1000)));
}

TEST(IceCredentials, GeneratedCredentialsAreLongAndDistinct) {
  auto a = IceCredentials::generate();
  auto b = IceCredentials::generate();
  EXPECT_EQ(a.ufrag.size(), 16u);
  EXPECT_EQ(a.pwd.size(), 32u);
  EXPECT_NE(a, b);
  for (char c : a.ufrag + a.pwd) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/');
}

}  // namespace
}  // namespace meeting::sfu
