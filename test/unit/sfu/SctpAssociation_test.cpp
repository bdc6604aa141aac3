#include "sfu/SctpAssociation.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <thread>

#include "unit/sfu/DtlsPair.hpp"

namespace meeting::sfu {
namespace {

using namespace std::chrono_literals;
const TimePoint T0{Duration{1'000'000}};

// The owning loop of the test: usrsctp's timer thread posts into it, the test thread runs it.
class TestLoop {
 public:
  void post(std::function<void()> task) {
    std::lock_guard lock(mutex_);
    tasks_.push_back(std::move(task));
    ++posted;
  }
  std::atomic<size_t> posted{0};
  size_t runPending() {
    std::deque<std::function<void()>> batch;
    {
      std::lock_guard lock(mutex_);
      batch.swap(tasks_);
    }
    for (auto& t : batch) t();
    return batch.size();
  }

 private:
  std::mutex mutex_;
  std::deque<std::function<void()>> tasks_;
};

struct Message {
  uint16_t streamId;
  bool binary;
  std::vector<uint8_t> data;
};

struct Side {
  std::unique_ptr<SctpAssociation> sctp;
  bool connected = false;
  std::string closedReason;
  std::vector<std::pair<uint16_t, DataChannelParameters>> opened;
  std::vector<Message> messages;
  std::vector<uint16_t> closedChannels;
  /// Drop the next outgoing SCTP packet that starts with a DATA chunk (RFC 4960 §3.3.1 type 0).
  bool dropNextData = false;
};

// True when an SCTP packet bundles a DATA chunk (type 0) anywhere (RFC 4960 §3.2, §6.10).
bool carriesData(std::span<const uint8_t> packet) {
  size_t pos = 12;  // common header
  while (pos + 4 <= packet.size()) {
    if (packet[pos] == 0) return true;
    const size_t length = static_cast<size_t>(packet[pos + 2] << 8 | packet[pos + 3]);
    if (length < 4) return false;
    pos += (length + 3) & ~size_t{3};
  }
  return false;
}

class SctpTest : public ::testing::Test {
 protected:
  void SetUp() override { start({}, {}); }
  void TearDown() override {
    client.sctp.reset();
    server.sctp.reset();
    loop.runPending();  // stale tasks find no association and do nothing
  }

  void start(SctpConfig clientConfig, SctpConfig serverConfig) {
    dtls = std::make_unique<test::DtlsPair>();
    dtls->client.onData = [this](std::span<const uint8_t> d) {
      if (client.sctp) client.sctp->receive(d);
    };
    dtls->server.onData = [this](std::span<const uint8_t> d) {
      if (server.sctp) server.sctp->receive(d);
    };
    dtls->client.session->start(T0);
    dtls->pump(T0);
    ASSERT_TRUE(dtls->client.connected && dtls->server.connected);
    clientConfig.dtlsRole = DtlsRole::Client;
    serverConfig.dtlsRole = DtlsRole::Server;
    make(client, *dtls->client.session, clientConfig);
    make(server, *dtls->server.session, serverConfig);
    ASSERT_TRUE(client.sctp && server.sctp);
    ASSERT_TRUE(client.sctp->connect().ok());
    ASSERT_TRUE(server.sctp->connect().ok());
    ASSERT_TRUE(runUntil([&] { return client.connected && server.connected; }));
  }

  void make(Side& side, DtlsSession& session, const SctpConfig& config) {
    SctpCallbacks cb;
    cb.send = [&session, &side](std::span<const uint8_t> packet) {
      if (side.dropNextData && carriesData(packet)) {
        side.dropNextData = false;
        return;
      }
      session.send(packet);
    };
    cb.onConnected = [&side] { side.connected = true; };
    cb.onChannelOpen = [&side](uint16_t sid, const DataChannelParameters& p) { side.opened.emplace_back(sid, p); };
    cb.onMessage = [&side](uint16_t sid, bool binary, std::span<const uint8_t> d) {
      side.messages.push_back({sid, binary, {d.begin(), d.end()}});
    };
    cb.onChannelClosed = [&side](uint16_t sid) { side.closedChannels.push_back(sid); };
    cb.onClosed = [&side](std::string_view reason) { side.closedReason = std::string(reason); };
    auto a = SctpAssociation::create(config, std::move(cb), [this](std::function<void()> t) { loop.post(std::move(t)); });
    ASSERT_TRUE(a.ok()) << a.error().message;
    side.sctp = std::move(*a);
  }

  /// Runs the loop and the DTLS wire until `done` holds; usrsctp timers run in real time.
  bool runUntil(const std::function<bool()>& done, Duration limit = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      const size_t work = loop.runPending() + dtls->pump(T0);
      if (done()) return true;
      if (!work) std::this_thread::sleep_for(1ms);
    }
    return done();
  }

  uint16_t openAndWait(Side& opener, Side& peer, const DataChannelParameters& p) {
    auto sid = opener.sctp->openChannel(p);
    EXPECT_TRUE(sid.ok());
    if (!sid.ok()) return 0xffff;
    const uint16_t id = *sid;
    EXPECT_TRUE(runUntil([&] { return opener.sctp->isChannelOpen(id) && peer.sctp->isChannelOpen(id); }));
    return id;
  }

  TestLoop loop;
  std::unique_ptr<test::DtlsPair> dtls;
  Side client, server;
};


TEST_F(SctpTest, OpensChannelsWithDcepAndRoleParity) {
  DataChannelParameters p;
  p.label = "chat";
  p.protocol = "json";
  const uint16_t fromClient = openAndWait(client, server, p);
  EXPECT_EQ(fromClient % 2, 0) << "DTLS client uses even stream ids";
  ASSERT_EQ(server.opened.size(), 1u);
  EXPECT_EQ(server.opened[0].first, fromClient);
  EXPECT_EQ(server.opened[0].second.label, "chat");
  EXPECT_EQ(server.opened[0].second.protocol, "json");
  EXPECT_EQ(server.opened[0].second.type, DataChannelType::Reliable);
  ASSERT_EQ(client.opened.size(), 1u);  // the ACK arrived

  p.label = "from-sfu";
  p.protocol.clear();
  const uint16_t fromServer = openAndWait(server, client, p);
  EXPECT_EQ(fromServer % 2, 1) << "DTLS server uses odd stream ids";
  ASSERT_EQ(client.opened.size(), 2u);
  EXPECT_EQ(client.opened[1].second.label, "from-sfu");
  EXPECT_EQ(server.sctp->channelCount(), 2u);
}

TEST_F(SctpTest, DeliversHundredMessagesInOrderIncludingLargeOne) {
  DataChannelParameters p;
  p.label = "bulk";
  const uint16_t sid = openAndWait(client, server, p);
  std::vector<std::vector<uint8_t>> sent;
  for (int i = 0; i < 100; ++i) {
    std::vector<uint8_t> m;
    if (i == 50) {
      m.resize(64 * 1024);
      for (size_t j = 0; j < m.size(); ++j) m[j] = static_cast<uint8_t>(j * 7 + j / 256);
    } else {
      const std::string text = "message " + std::to_string(i);
      m.assign(text.begin(), text.end());
    }
    ASSERT_EQ(client.sctp->sendMessage(sid, i == 50, m), SctpAssociation::SendStatus::Ok) << i;
    sent.push_back(std::move(m));
  }
  ASSERT_TRUE(runUntil([&] { return server.messages.size() >= 100; }));
  ASSERT_EQ(server.messages.size(), 100u);
  for (size_t i = 0; i < 100; ++i) {
    EXPECT_EQ(server.messages[i].streamId, sid);
    EXPECT_EQ(server.messages[i].binary, i == 50);
    EXPECT_EQ(server.messages[i].data, sent[i]) << "message " << i;
  }
  EXPECT_EQ(server.sctp->droppedMessages(), 0u);
  // SCTP packets fit the DTLS MTU: no datagram above 1200 bytes (RFC 8261 §5).
  EXPECT_LE(dtls->client.largestDatagram, 1200u);
  EXPECT_LE(dtls->server.largestDatagram, 1200u);
}

TEST_F(SctpTest, EmptyMessagesUseTheirOwnPpids) {
  const uint16_t sid = openAndWait(client, server, {});
  EXPECT_EQ(client.sctp->sendMessage(sid, false, {}), SctpAssociation::SendStatus::Ok);
  EXPECT_EQ(client.sctp->sendMessage(sid, true, {}), SctpAssociation::SendStatus::Ok);
  EXPECT_EQ(server.sctp->sendText(sid, "back"), SctpAssociation::SendStatus::Ok);
  ASSERT_TRUE(runUntil([&] { return server.messages.size() == 2 && client.messages.size() == 1; }));
  EXPECT_FALSE(server.messages[0].binary);
  EXPECT_TRUE(server.messages[0].data.empty());
  EXPECT_TRUE(server.messages[1].binary);
  EXPECT_TRUE(server.messages[1].data.empty());
  EXPECT_EQ(client.messages[0].data, std::vector<uint8_t>({'b', 'a', 'c', 'k'}));
}

TEST_F(SctpTest, UnorderedAndPartiallyReliableChannels) {
  struct Case {
    DataChannelType type;
    uint32_t parameter;
  };
  const Case cases[] = {{DataChannelType::ReliableUnordered, 0},
                        {DataChannelType::PartialReliableRexmit, 3},
                        {DataChannelType::PartialReliableRexmitUnordered, 0},
                        {DataChannelType::PartialReliableTimed, 500},
                        {DataChannelType::PartialReliableTimedUnordered, 150}};
  for (const Case& c : cases) {
    DataChannelParameters p;
    p.type = c.type;
    p.reliabilityParameter = c.parameter;
    p.label = "pr-" + std::to_string(static_cast<int>(c.type));
    const uint16_t sid = openAndWait(client, server, p);
    const auto& seen = server.opened.back();
    EXPECT_EQ(seen.first, sid);
    EXPECT_EQ(seen.second.type, c.type);
    EXPECT_EQ(seen.second.reliabilityParameter, c.parameter);
    EXPECT_EQ(seen.second.label, p.label);
    ASSERT_EQ(client.sctp->sendText(sid, "hello"), SctpAssociation::SendStatus::Ok);
    ASSERT_EQ(server.sctp->sendText(sid, "world"), SctpAssociation::SendStatus::Ok);
  }
  ASSERT_TRUE(runUntil([&] { return server.messages.size() == 5 && client.messages.size() == 5; }));
}

TEST_F(SctpTest, CloseResetsStreamsOnBothSides) {
  const uint16_t a = openAndWait(client, server, {});
  const uint16_t b = openAndWait(server, client, {});
  client.sctp->closeChannel(a);
  EXPECT_EQ(client.sctp->sendText(a, "late"), SctpAssociation::SendStatus::NotOpen);
  ASSERT_TRUE(runUntil([&] { return !client.closedChannels.empty() && !server.closedChannels.empty(); }));
  EXPECT_EQ(client.closedChannels, std::vector<uint16_t>{a});
  EXPECT_EQ(server.closedChannels, std::vector<uint16_t>{a});
  EXPECT_FALSE(server.sctp->isChannelOpen(a));
  // The other channel is untouched; the closed id can be opened again.
  EXPECT_TRUE(server.sctp->isChannelOpen(b));
  EXPECT_EQ(server.sctp->sendText(b, "still here"), SctpAssociation::SendStatus::Ok);
  ASSERT_TRUE(runUntil([&] { return client.messages.size() == 1; }));
  // The peer closing works the same way.
  server.sctp->closeChannel(b);
  ASSERT_TRUE(runUntil([&] { return client.closedChannels.size() == 2 && server.closedChannels.size() == 2; }));
  EXPECT_EQ(client.sctp->channelCount(), 0u);
  EXPECT_EQ(server.sctp->channelCount(), 0u);
}

TEST_F(SctpTest, OversizedMessagesAreRejected) {
  const uint16_t sid = openAndWait(client, server, {});
  std::vector<uint8_t> big(256 * 1024 + 1, 1);
  EXPECT_EQ(client.sctp->sendMessage(sid, true, big), SctpAssociation::SendStatus::TooLarge);
  big.resize(256 * 1024);  // exactly the limit is fine
  EXPECT_EQ(client.sctp->sendMessage(sid, true, big), SctpAssociation::SendStatus::Ok);
  ASSERT_TRUE(runUntil([&] { return server.messages.size() == 1; }));
  EXPECT_EQ(server.messages[0].data.size(), big.size());
  EXPECT_EQ(client.sctp->sendText(999, "x"), SctpAssociation::SendStatus::NotOpen);
}

TEST_F(SctpTest, ReceiverDropsMessagesAboveItsLimit) {
  TearDown();
  client = {};
  server = {};
  SctpConfig small;
  small.maxMessageSize = 100 * 1024;
  start({}, small);
  const uint16_t sid = openAndWait(client, server, {});
  std::vector<uint8_t> big(200 * 1024, 2);
  ASSERT_EQ(client.sctp->sendMessage(sid, true, big), SctpAssociation::SendStatus::Ok);
  ASSERT_EQ(client.sctp->sendText(sid, "after"), SctpAssociation::SendStatus::Ok);
  ASSERT_TRUE(runUntil([&] { return server.messages.size() == 1; }));
  EXPECT_EQ(server.messages[0].data, std::vector<uint8_t>({'a', 'f', 't', 'e', 'r'}));
  EXPECT_EQ(server.sctp->droppedMessages(), 1u);
}

TEST_F(SctpTest, ChannelOpenedBeforeConnectIsSentOnConnect) {
  TearDown();
  client = {};
  server = {};
  dtls = std::make_unique<test::DtlsPair>();
  dtls->client.onData = [this](std::span<const uint8_t> d) { if (client.sctp) client.sctp->receive(d); };
  dtls->server.onData = [this](std::span<const uint8_t> d) { if (server.sctp) server.sctp->receive(d); };
  dtls->client.session->start(T0);
  dtls->pump(T0);
  SctpConfig c, s;
  c.dtlsRole = DtlsRole::Client;
  make(client, *dtls->client.session, c);
  make(server, *dtls->server.session, s);
  DataChannelParameters p;
  p.label = "early";
  auto sid = client.sctp->openChannel(p);
  ASSERT_TRUE(sid.ok());
  // Only the browser side connects; the server answers its INIT from receive().
  ASSERT_TRUE(client.sctp->connect().ok());
  ASSERT_TRUE(runUntil([&] { return server.opened.size() == 1 && client.opened.size() == 1; }));
  EXPECT_EQ(server.opened[0].second.label, "early");
  EXPECT_EQ(server.sctp->state(), SctpAssociation::State::Connected);
}

TEST_F(SctpTest, LostPacketIsRetransmittedFromTimerThreadThroughPost) {
  const uint16_t sid = openAndWait(client, server, {});
  const size_t postedBefore = loop.posted;
  client.dropNextData = true;
  ASSERT_EQ(client.sctp->sendText(sid, "lost once"), SctpAssociation::SendStatus::Ok);
  // The only copy was dropped; usrsctp's T3-rtx timer (its own thread) resends it.
  ASSERT_TRUE(runUntil([&] { return server.messages.size() == 1; }, 15s));
  EXPECT_EQ(server.messages[0].data, std::vector<uint8_t>({'l', 'o', 's', 't', ' ', 'o', 'n', 'c', 'e'}));
  EXPECT_GT(loop.posted.load(), postedBefore);
}

TEST_F(SctpTest, PartialReliabilityAbandonsLostMessage) {
  DataChannelParameters p;
  p.type = DataChannelType::PartialReliableRexmitUnordered;
  p.reliabilityParameter = 0;  // never retransmit
  const uint16_t sid = openAndWait(client, server, p);
  client.dropNextData = true;
  ASSERT_EQ(client.sctp->sendText(sid, "A"), SctpAssociation::SendStatus::Ok);
  ASSERT_EQ(client.sctp->sendText(sid, "B"), SctpAssociation::SendStatus::Ok);
  ASSERT_TRUE(runUntil([&] { return server.messages.size() == 1; }, 5s));
  EXPECT_EQ(server.messages[0].data, std::vector<uint8_t>{'B'});
  // Long enough for a retransmission timeout: "A" is abandoned (FORWARD-TSN), never delivered.
  EXPECT_FALSE(runUntil([&] { return server.messages.size() > 1; }, 3s));
  // The stream still works afterwards.
  ASSERT_EQ(client.sctp->sendText(sid, "C"), SctpAssociation::SendStatus::Ok);
  ASSERT_TRUE(runUntil([&] { return server.messages.size() == 2; }, 5s));
  EXPECT_EQ(server.messages[1].data, std::vector<uint8_t>{'C'});
}

TEST_F(SctpTest, PeerDestructionClosesAssociation) {
  const uint16_t sid = openAndWait(client, server, {});
  client.sctp.reset();  // ABORT
  ASSERT_TRUE(runUntil([&] { return !server.closedReason.empty(); }, 5s));
  EXPECT_EQ(server.sctp->state(), SctpAssociation::State::Closed);
  EXPECT_EQ(server.closedChannels, std::vector<uint16_t>{sid});
  EXPECT_EQ(server.sctp->channelCount(), 0u);
  EXPECT_EQ(server.sctp->sendText(sid, "x"), SctpAssociation::SendStatus::NotOpen);
}

TEST(Dcep, OpenRoundTripAndBounds) {
  DataChannelParameters p;
  p.type = DataChannelType::PartialReliableTimedUnordered;
  p.priority = 512;
  p.reliabilityParameter = 1234;
  p.label = "label";
  p.protocol = "proto";
  std::vector<uint8_t> wire;
  ASSERT_TRUE(dcep::serializeOpen(p, wire));
  auto back = dcep::parseOpen(wire);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->type, p.type);
  EXPECT_EQ(back->priority, 512);
  EXPECT_EQ(back->reliabilityParameter, 1234u);
  EXPECT_EQ(back->label, "label");
  EXPECT_EQ(back->protocol, "proto");
  for (size_t n = 0; n < wire.size(); ++n)
    EXPECT_FALSE(dcep::parseOpen(std::span<const uint8_t>(wire.data(), n)).has_value()) << n;
  wire.push_back(0);
  EXPECT_FALSE(dcep::parseOpen(wire).has_value());  // trailing byte
  wire.pop_back();
  wire[1] = 0x03;  // unknown channel type
  EXPECT_FALSE(dcep::parseOpen(wire).has_value());
  EXPECT_TRUE(dcep::isAck(std::vector<uint8_t>{2}));
  EXPECT_FALSE(dcep::isAck(std::vector<uint8_t>{2, 0}));
}

}  // namespace
}  // namespace meeting::sfu
