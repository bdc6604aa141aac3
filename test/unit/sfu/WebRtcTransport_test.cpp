// WebRtcTransport against an in-process "browser" (a DTLS client and SRTP sessions from the
// DtlsPair certificates), with a ManualClock driving the loop's timers: server-initiated ICE
// restart, transport-wide feedback to a sender, transport-wide numbering of what we send and
// the reading of the receiver's feedback.
#include "sfu/WebRtcTransport.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "DtlsPair.hpp"
#include "common/ByteReader.hpp"
#include "proto/rtcp/Rtcp.hpp"
#include "proto/rtp/RtpExtensions.hpp"
#include "proto/stun/Stun.hpp"

namespace meeting::sfu {
namespace {
namespace stun = proto::stun;
namespace rtcp = proto::rtcp;
namespace rtp = proto::rtp;
using namespace std::chrono_literals;

struct FakeHost : TransportHost {
  std::vector<std::vector<uint8_t>> sent;
  std::vector<std::string> ufrags;
  void sendOnPath(const IcePath&, std::span<const uint8_t> packet) override { sent.emplace_back(packet.begin(), packet.end()); }
  void bindPath(WebRtcTransport&, const IcePath&) override {}
  void registerUfrag(WebRtcTransport&, const std::string& ufrag) override { ufrags.push_back(ufrag); }
};

std::vector<uint8_t> bindingRequest(const IceCredentials& server, const std::string& remoteUfrag) {
  std::vector<uint8_t> buffer(256);
  ByteWriter writer(buffer);
  stun::TransactionId id{};
  stun::randomTransactionId(id);
  stun::StunBuilder builder(writer, stun::Method::Binding, stun::MessageClass::Request, id);
  builder.addUsername(server.ufrag + ":" + remoteUfrag);
  builder.addIceControlling(1);
  builder.addUseCandidate();
  builder.addMessageIntegrity(stun::shortTermKey(server.pwd));
  builder.addFingerprint();
  buffer.resize(builder.size());
  return buffer;
}

class WebRtcTransportTest : public ::testing::Test {
 protected:
  WebRtcTransportTest() {
    WebRtcTransportCallbacks callbacks;
    callbacks.onRtcp = [this](std::span<const uint8_t> compound) { rtcpSeen_.emplace_back(compound.begin(), compound.end()); };
    transport_ = std::make_unique<WebRtcTransport>(1, loop_, host_, test::DtlsPair::certificate(1),
                                                   IceCredentials::generate(), std::move(callbacks));
    path_.remote = stun::Address::v4({192, 0, 2, 7}, 50000);
  }

  RemoteTransportParameters remote(const std::string& ufrag, uint8_t transportCcId = 0) const {
    RemoteTransportParameters r;
    r.iceUfrag = ufrag;
    r.icePwd = "browserpasswordbrowserpassword";
    r.fingerprint = test::DtlsPair::certificate(0).fingerprintSdp();
    r.transportCcId = transportCcId;
    return r;
  }

  // Sends a check naming (server ufrag, remote ufrag); true when it was answered with success.
  bool check(const IceCredentials& server, const std::string& remoteUfrag) {
    host_.sent.clear();
    auto request = bindingRequest(server, remoteUfrag);
    transport_->receive(request, path_);
    if (host_.sent.empty()) return false;
    auto response = stun::StunMessage::parse(std::span<const uint8_t>(host_.sent.back()));
    return response && response->messageClass() == stun::MessageClass::SuccessResponse;
  }

  // ICE, then a DTLS handshake with an in-process client, then SRTP both ways.
  void connect(uint8_t transportCcId) {
    ASSERT_TRUE(transport_->setRemote(remote("browser1", transportCcId)));
    ASSERT_TRUE(check(transport_->localIce(), "browser1"));
    DtlsConfig config;
    config.role = DtlsRole::Client;
    DtlsCallbacks cb;
    cb.onSend = [this](std::span<const uint8_t> d) { toServer_.emplace_back(d.begin(), d.end()); };
    cb.onConnected = [this](SrtpProfile profile, std::span<const uint8_t> local, std::span<const uint8_t> remoteKey) {
      auto out = SrtpSession::create(SrtpSession::Direction::Outbound, profile, local);
      auto in = SrtpSession::create(SrtpSession::Direction::Inbound, profile, remoteKey);
      if (out && in) {
        srtpOut_ = std::move(*out);
        srtpIn_ = std::move(*in);
      }
    };
    auto client = DtlsSession::create(test::DtlsPair::certificate(0), config, std::move(cb));
    ASSERT_TRUE(client);
    client_ = std::move(*client);
    ASSERT_TRUE(client_->setRemoteFingerprint(test::DtlsPair::certificate(1).fingerprintSdp()));
    host_.sent.clear();
    client_->start(clock_.now());
    for (int round = 0; round < 20 && transport_->state() != TransportState::Connected; ++round) {
      auto toServer = std::move(toServer_);
      toServer_.clear();
      for (auto& d : toServer) transport_->receive(d, path_);
      auto toClient = std::move(host_.sent);
      host_.sent.clear();
      for (auto& d : toClient) client_->receive(d, clock_.now());
    }
    ASSERT_EQ(transport_->state(), TransportState::Connected);
    for (int round = 0; round < 5 && !srtpIn_; ++round) {
      auto toClient = std::move(host_.sent);
      host_.sent.clear();
      for (auto& d : toClient) client_->receive(d, clock_.now());
    }
    ASSERT_TRUE(srtpIn_ && srtpOut_);
    host_.sent.clear();
  }

  // The browser sends RTP carrying transport-wide sequence `seq` at id 3.
  void browserSendsRtp(uint16_t seq, uint16_t rtpSeq) {
    std::vector<uint8_t> p = {0x90, 96, static_cast<uint8_t>(rtpSeq >> 8), static_cast<uint8_t>(rtpSeq), 0, 0, 0, 1,
                              0, 0, 0xAB, 0xCD, 0xBE, 0xDE, 0, 1, 0x31, static_cast<uint8_t>(seq >> 8),
                              static_cast<uint8_t>(seq), 0};
    p.resize(p.size() + 100, 0x55);
    size_t length = p.size();
    p.resize(p.size() + 64);
    ASSERT_EQ(srtpOut_->protectRtp(p.data(), length, p.size()), SrtpStatus::Ok);
    transport_->receive(std::span<uint8_t>(p.data(), length), path_);
  }

  void browserSendsRtcp(std::vector<uint8_t> compound) {
    size_t length = compound.size();
    compound.resize(compound.size() + 64);
    ASSERT_EQ(srtpOut_->protectRtcp(compound.data(), length, compound.size()), SrtpStatus::Ok);
    transport_->receive(std::span<uint8_t>(compound.data(), length), path_);
  }

  ManualClock clock_;
  net::EventLoop loop_{"test", clock_};
  FakeHost host_;
  IcePath path_;
  std::unique_ptr<WebRtcTransport> transport_;
  std::unique_ptr<DtlsSession> client_;
  std::vector<std::vector<uint8_t>> toServer_;
  std::unique_ptr<SrtpSession> srtpOut_, srtpIn_;
  std::vector<std::vector<uint8_t>> rtcpSeen_;
};

TEST_F(WebRtcTransportTest, ServerInitiatedIceRestartKeepsOldCredentialsUntilTheAnswer) {
  ASSERT_TRUE(transport_->setRemote(remote("browser1")));
  const IceCredentials old = transport_->localIce();
  ASSERT_TRUE(check(old, "browser1"));

  const IceCredentials fresh = transport_->prepareIceRestart();
  EXPECT_NE(fresh.ufrag, old.ufrag);
  EXPECT_NE(fresh.pwd, old.pwd);
  EXPECT_EQ(transport_->localIce(), fresh);  // what the next offer describes
  EXPECT_TRUE(transport_->iceRestartPending());
  ASSERT_FALSE(host_.ufrags.empty());
  EXPECT_EQ(host_.ufrags.back(), fresh.ufrag);
  // Asked again before the answer: the same pending set, not a third one.
  EXPECT_EQ(transport_->prepareIceRestart(), fresh);
  // Consent checks on the old pair still work while the offer is out.
  EXPECT_TRUE(check(old, "browser1"));

  // An answer to an offer made before the restart (same remote ufrag) does not end it.
  ASSERT_TRUE(transport_->setRemote(remote("browser1")));
  EXPECT_TRUE(transport_->iceRestartPending());
  EXPECT_EQ(transport_->localIce(), fresh);

  // The answer brings the browser's new ufrag: no new local credentials.
  ASSERT_TRUE(transport_->setRemote(remote("browser2")));
  EXPECT_EQ(transport_->localIce(), fresh);
  EXPECT_FALSE(transport_->iceRestartPending());
  EXPECT_TRUE(check(old, "browser1"));  // old ones live until the first new check succeeds
  EXPECT_FALSE(check(fresh, "browser1"));  // the new pair names the new remote ufrag
  EXPECT_TRUE(check(fresh, "browser2"));
  EXPECT_FALSE(check(old, "browser1"));  // restart complete

  // A client-initiated restart (a new ufrag in the browser's offer) still makes new ones.
  ASSERT_TRUE(transport_->setRemote(remote("browser3")));
  EXPECT_NE(transport_->localIce(), fresh);
  EXPECT_TRUE(check(transport_->localIce(), "browser3"));
}

TEST_F(WebRtcTransportTest, PrepareIceRestartBeforeAnyRemoteIsANoOp) {
  const IceCredentials initial = transport_->localIce();
  EXPECT_EQ(transport_->prepareIceRestart(), initial);
  EXPECT_FALSE(transport_->iceRestartPending());
}

TEST_F(WebRtcTransportTest, SendsTransportWideFeedbackForReceivedRtp) {
  connect(3);
  ASSERT_EQ(transport_->transportCcId(), 3);
  for (uint16_t s : {100, 101, 103, 104}) browserSendsRtp(s, s);
  ASSERT_NE(transport_->transportCcFeedback(), nullptr);
  EXPECT_EQ(transport_->transportCcFeedback()->stats().packets, 4u);

  clock_.advance(100ms);
  loop_.runDueTimers();
  ASSERT_FALSE(host_.sent.empty());
  std::vector<rtcp::TransportFeedback> parsed;
  std::vector<std::vector<uint8_t>> plain;
  for (auto& packet : host_.sent) {
    size_t length = packet.size();
    if (srtpIn_->unprotectRtcp(packet.data(), length) != SrtpStatus::Ok) continue;
    plain.emplace_back(packet.begin(), packet.begin() + static_cast<ptrdiff_t>(length));
  }
  for (auto& p : plain) {
    rtcp::CompoundReader reader(p);
    rtcp::RtcpPacketView view;
    while (reader.next(view)) {
      if (auto fb = rtcp::TransportFeedback::parse(view)) parsed.push_back(*fb);
    }
  }
  ASSERT_EQ(parsed.size(), 1u);
  EXPECT_EQ(parsed[0].baseSequence(), 100);
  EXPECT_EQ(parsed[0].statusCount(), 5);
  EXPECT_EQ(parsed[0].receivedCount(), 4u);
  EXPECT_EQ(parsed[0].mediaSsrc(), 0xABCDu);

  // Nothing new: no feedback on the next tick.
  host_.sent.clear();
  clock_.advance(100ms);
  loop_.runDueTimers();
  EXPECT_TRUE(host_.sent.empty());
}

TEST_F(WebRtcTransportTest, NumbersSentRtpAndReadsTheReceiversFeedback) {
  connect(3);
  // Two packets: one without any extension (the element is added), one with id 3 (in place).
  std::vector<uint8_t> plainRtp = {0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9};
  plainRtp.resize(plainRtp.size() + 200, 0x11);
  const size_t plainLength = plainRtp.size();
  plainRtp.resize(plainLength + WebRtcTransport::SrtpHeadroom);
  ASSERT_TRUE(transport_->sendRtp(plainRtp, plainLength));
  std::vector<uint8_t> withExt = {0x90, 96, 0, 2, 0, 0, 0, 0, 0, 0, 0, 9, 0xBE, 0xDE, 0, 1, 0x31, 0xFF, 0xFF, 0};
  withExt.resize(withExt.size() + 200, 0x22);
  const size_t extLength = withExt.size();
  withExt.resize(extLength + WebRtcTransport::SrtpHeadroom);
  clock_.advance(5ms);
  ASSERT_TRUE(transport_->sendRtp(withExt, extLength));
  ASSERT_EQ(host_.sent.size(), 2u);
  std::vector<uint16_t> seqs;
  for (auto& packet : host_.sent) {
    size_t length = packet.size();
    ASSERT_EQ(srtpIn_->unprotectRtp(packet.data(), length), SrtpStatus::Ok);
    auto parsed = rtp::RtpPacket::parse(packet, length);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->payloadSize(), 200u);
    auto seq = rtp::readTransportSequence(*parsed, 3);
    ASSERT_TRUE(seq);
    seqs.push_back(*seq);
  }
  EXPECT_EQ(seqs, (std::vector<uint16_t>{1, 2}));

  // The receiver reports both received, then a REMB; the compound still reaches onRtcp.
  std::vector<uint8_t> compound(256);
  ByteWriter w(compound);
  const rtcp::TwccArrival arrivals[] = {{1, 1'000'000}, {2, 1'005'000}};
  ASSERT_EQ(rtcp::TransportFeedback::build(w, 0x99, 9, 0, arrivals), 2u);
  const uint32_t ssrcs[] = {9};
  ASSERT_TRUE(rtcp::Remb::build(w, 0x99, 2'000'000, ssrcs));
  compound.resize(w.size());
  clock_.advance(30ms);
  browserSendsRtcp(compound);
  ASSERT_EQ(rtcpSeen_.size(), 1u);
  EXPECT_EQ(rtcpSeen_[0], compound);
  const auto stats = transport_->congestionStats();
  EXPECT_EQ(stats.packetsSent, 2u);
  EXPECT_EQ(stats.feedbackPackets, 1u);
  EXPECT_EQ(stats.packetsReportedReceived, 2u);
  EXPECT_EQ(stats.packetsReportedLost, 0u);
  EXPECT_EQ(stats.rembBitrateBps, 2'000'000u);
  EXPECT_EQ(stats.feedbackRttUs, 30'000);
  EXPECT_EQ(transport_->stats().twccUnnumbered, 0u);
}

TEST_F(WebRtcTransportTest, WithoutTransportCcNothingIsNumberedOrFedBack) {
  connect(0);
  EXPECT_EQ(transport_->transportCcFeedback(), nullptr);
  browserSendsRtp(5, 5);
  clock_.advance(200ms);
  loop_.runDueTimers();
  EXPECT_TRUE(host_.sent.empty());
  std::vector<uint8_t> packet = {0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9};
  packet.resize(packet.size() + 50 + WebRtcTransport::SrtpHeadroom);
  ASSERT_TRUE(transport_->sendRtp(packet, 62));
  ASSERT_EQ(host_.sent.size(), 1u);
  size_t length = host_.sent[0].size();
  ASSERT_EQ(srtpIn_->unprotectRtp(host_.sent[0].data(), length), SrtpStatus::Ok);
  EXPECT_EQ(length, 62u);  // untouched
}

}  // namespace
}  // namespace meeting::sfu
